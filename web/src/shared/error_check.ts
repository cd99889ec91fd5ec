// The error wording together with the error type it reads, in one module, for the check in
// web/e2e/e2e.mjs (not part of either page).
export { ApiError } from './api';
export { describeError } from './errors';
