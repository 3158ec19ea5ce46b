import { Controller } from '@nestjs/common';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';

/** Handlers served by the app's Redis transport server: one request-response pattern and one event. */
@Controller()
export class EventsController {
  private readonly waiting = new Map<string, (note: { id: string }) => void>();
  private readonly received = new Map<string, { id: string }>();

  @MessagePattern('sum')
  sum(@Payload() numbers: number[]): number {
    return numbers.reduce((total, value) => total + value, 0);
  }

  @EventPattern('noted')
  noted(@Payload() note: { id: string }): void {
    this.received.set(note.id, note);
    this.waiting.get(note.id)?.(note);
  }

  /** Resolves when the event with this id arrives (at once if it already did). */
  nextNote(id: string): Promise<{ id: string }> {
    const arrived = this.received.get(id);
    if (arrived) return Promise.resolve(arrived);
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }
}
