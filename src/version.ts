/** pushq's version, written into every log header. Kept in step with package.json by a test. */
export const PUSHQ_VERSION = '0.1.0';
