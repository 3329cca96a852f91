// How closely the runtime must agree with its oracles. The README's "How correctness is checked"
// quotes these numbers; change both together. Measured on the tiny checkpoint (2 threads and 1,
// flash attention on and off), the bounds sit at about twice the worst value seen.

/**
 * max over token ids of |p_ours - p_llama.cpp| for the next-token distribution, node-llama-cpp
 * 3.21.1 on the same text GGUF, by GGUF type. Measured at most 5.6e-5 (f32, q8_0 and q4_0 alike:
 * both sides do the same arithmetic, quantized activations included, so only summation order
 * differs).
 */
export const LLAMA_CPP_PROBABILITY_LIMITS = { f32: 1e-4, f16: 1e-4, q8_0: 1e-4, q4_0: 1e-4 } as const;

/**
 * max |ours - ref| / max |ref| against the numpy reference goldens (f32 weights, f32 KV cache,
 * f32 GELU), for logits and image embeddings alike. Measured 4.8e-7 to 5.7e-7; the float32
 * reference itself is 4.2e-7 to 6.1e-7 from a float64 run of the same code, so this is the
 * rounding floor of fp32.
 */
export const REFERENCE_MAX_RELATIVE_ERROR = 1e-6;
