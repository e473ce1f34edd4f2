/** Content type of the pre-serialized JSON bodies the controllers send. */
export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
