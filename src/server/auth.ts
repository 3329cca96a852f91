// Bearer-token check. Both sides are hashed first so the comparison takes the same time whatever
// the key's length or the first differing byte.
import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './http-error.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

export function bearerChecker(apiKey: string): (authorization: string | undefined) => void {
  const expected = digest(apiKey);
  return (authorization) => {
    const match = /^Bearer\s+(.+)$/i.exec(authorization?.trim() ?? '');
    const ok = match !== null && timingSafeEqual(digest(match[1]!), expected);
    if (!ok) {
      throw new HttpError(401, authorization === undefined ? 'Missing API key: send Authorization: Bearer <key>' : 'Invalid API key',
        'authentication_error', null, 'invalid_api_key', { 'www-authenticate': 'Bearer' });
    }
  };
}
