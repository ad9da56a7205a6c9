/** A request Consul would refuse: answered with `statusCode` and `message` as plain text, as Consul does. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
