/**
 * The process logger. Tokens and message content never reach a log line: headers that carry credentials are
 * redacted, request URLs lose their query string (the WebSocket token travels there), and bodies are never logged.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["sec-websocket-protocol"]',
        '*.token',
        '*.password',
        '*.content',
      ],
      censor: '[redacted]',
    },
    serializers: {
      // The client's address is the one TRUST_PROXY lets Fastify believe (request.ip).
      req: (req: { method: string; url: string; id?: string; ip?: string }) => ({
        id: req.id,
        method: req.method,
        url: req.url.split('?')[0],
        remoteAddress: req.ip,
      }),
    },
    },
    destination,
  );
}
