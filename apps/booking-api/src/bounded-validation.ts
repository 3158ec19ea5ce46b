import { BadRequestException, type ValidationError } from '@nestjs/common';

/** Most validation messages one 400 lists; the rest are counted. A DTO has three fields: ten is every real mistake. */
export const MAX_VALIDATION_MESSAGES = 10;
/** Longest message kept: an unknown property's message echoes its name, which the client chose. */
export const MAX_VALIDATION_MESSAGE_LENGTH = 120;

/**
 * The ValidationPipe's `exceptionFactory`: the same 400 body as Nest's default (`message` lists the reasons), but
 * bounded, so a 15 kB body of a thousand unknown properties gets a 1 kB answer instead of a 164 kB one. Messages
 * are cut at {@link MAX_VALIDATION_MESSAGE_LENGTH} characters, the list at {@link MAX_VALIDATION_MESSAGES} with a
 * last line counting the rest. class-validator's messages name properties and constraints, never the values.
 *
 * @param errors what class-validator found
 */
export function boundedValidationError(errors: ValidationError[]): BadRequestException {
  const messages: string[] = [];
  let total = 0;
  const stack: Array<[ValidationError, string]> = errors.map((error) => [error, '']).reverse() as Array<
    [ValidationError, string]
  >;
  while (stack.length > 0) {
    const [error, parent] = stack.pop()!;
    for (const message of Object.values(error.constraints ?? {})) {
      total++;
      if (messages.length < MAX_VALIDATION_MESSAGES) messages.push(clip(`${parent}${message}`));
    }
    const path = `${parent}${error.property}.`;
    for (const child of [...(error.children ?? [])].reverse()) stack.push([child, path]);
  }
  if (total > messages.length) messages.push(`… and ${total - messages.length} more`);
  return new BadRequestException(messages);
}

function clip(message: string): string {
  return message.length > MAX_VALIDATION_MESSAGE_LENGTH
    ? `${message.slice(0, MAX_VALIDATION_MESSAGE_LENGTH)}…`
    : message;
}
