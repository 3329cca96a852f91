// The pieces of our float erf (avx512_math.h, avx2_math.h): least-squares polynomials fitted here
// (float64 fit, errors checked in float32 on 100k points per piece), within 1.6e-7 of the exact
// value (about 2 ulp near 1): erf(x)/x in x^2 on [0, 1] (kSmall), erf in (x - 1.75) on [1, 2.5]
// (kMiddle) and in (x - 3.2) on [2.5, 3.93] (kLarge); 1 beyond, where erf rounds to 1 in float.
// Coefficients in increasing powers.
#pragma once

namespace moondream::erf_coefficients {

inline constexpr float kSmall[8] = {1.128379226e+00f, -3.761263788e-01f, 1.128378436e-01f, -2.686555870e-02f,
                                    5.221421830e-03f, -8.490177570e-04f, 1.131296740e-04f, -9.808788491e-06f};
inline constexpr float kMiddle[11] = {9.866716862e-01f, 5.277497694e-02f, -9.235612303e-02f, 9.015790373e-02f,
                                      -4.810469598e-02f, 6.618470885e-03f, 8.982072584e-03f, -6.036744453e-03f,
                                      6.639094790e-04f, 8.622736204e-04f, -3.353737993e-04f};
inline constexpr float kLarge[10] = {9.999939799e-01f, 4.029637785e-05f, -1.289669162e-04f, 2.617188438e-04f, -3.754648496e-04f,
                                     4.017546598e-04f, -3.300791141e-04f, 2.079336555e-04f, -9.179030894e-05f, 2.068239883e-05f};
inline constexpr float kMiddleFrom = 1.0f;
inline constexpr float kLargeFrom = 2.5f;
inline constexpr float kOneFrom = 3.93f;
inline constexpr float kMiddleCentre = 1.75f;
inline constexpr float kLargeCentre = 3.2f;

}  // namespace moondream::erf_coefficients
