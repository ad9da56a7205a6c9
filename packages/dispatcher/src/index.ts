export { hashPassword, MAX_PASSWORD_CHARS, verifyPassword } from './accounts/passwords.js';
export { safeNext } from './http/safe-redirect.js';
