import type { HistoryItemInput } from '@userplug/core';
import type { PersonaBenchSession } from './load-personabench.js';

const weekdays = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const monthNames = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** History-item kinds of the three session kinds. */
export const sessionItemKinds = {
  conversation: 'conversation',
  'user-ai-interaction': 'assistant-chat',
  'purchase-history': 'purchase',
} as const;

/** `Monday 14 October 2024 at 7:44 AM` (UTC, locale-independent), or the release's own text when unparsed. */
export function formatSessionTime(session: Pick<PersonaBenchSession, 'time' | 'timestamp'>): string {
  if (session.timestamp === undefined) return session.time;
  const date = new Date(session.timestamp);
  const hour = date.getUTCHours();
  const minute = String(date.getUTCMinutes()).padStart(2, '0');
  const clock = `${hour % 12 === 0 ? 12 : hour % 12}:${minute} ${hour < 12 ? 'AM' : 'PM'}`;
  return `${weekdays[date.getUTCDay()]} ${date.getUTCDate()} ${monthNames[date.getUTCMonth()]} ${date.getUTCFullYear()} at ${clock}`;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The text of a session: who, with whom, when (a header line), then what (one line per message or product). */
export function sessionText(session: PersonaBenchSession): string {
  const when = formatSessionTime(session);
  const lines: string[] = [];
  if (session.kind === 'conversation') {
    const partner = session.targetName ?? 'someone';
    lines.push(`Conversation between ${session.person} and ${partner} on ${when}`);
    for (const message of session.messages) lines.push(`${message.role}: ${oneLine(message.content)}`);
  } else if (session.kind === 'user-ai-interaction') {
    lines.push(`${session.person} talking with an AI assistant on ${when}`);
    for (const message of session.messages) {
      const speaker =
        message.role === 'user'
          ? session.person
          : message.role === 'assistant'
            ? 'AI assistant'
            : message.role;
      lines.push(`${speaker}: ${oneLine(message.content)}`);
    }
  } else {
    lines.push(`Purchases by ${session.person} on ${when}`);
    for (const product of session.products) {
      const details = [product.brand, product.categories?.join(' > ')].filter(
        (part): part is string => part !== undefined && part.length > 0,
      );
      const head = details.length > 0 ? `${product.title} (${details.join('; ')})` : product.title;
      lines.push(
        product.description
          ? `Bought ${oneLine(head)}: ${oneLine(product.description)}`
          : `Bought ${oneLine(head)}`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * Converts one PersonaBench session to a core history item: id = `segment_id`, text written as who, with
 * whom, when and what, the session time as timestamp, and the session kind. It reads nothing but the session.
 */
export function sessionToHistoryItem(session: PersonaBenchSession): HistoryItemInput {
  return {
    id: session.segmentId,
    text: sessionText(session),
    kind: sessionItemKinds[session.kind],
    ...(session.timestamp === undefined ? {} : { timestamp: session.timestamp }),
    meta: {
      segmentId: session.segmentId,
      ...(session.targetName === undefined ? {} : { with: session.targetName }),
    },
  };
}

/**
 * Converts one PersonaBench session to chat-turn history items, as a chatbot stores them: one item per message
 * (id `segmentId:position`), with its speaker, the session as `sessionId`, the conversation partner as
 * `conversationId`, the session time as timestamp, and `self` on the person's own messages; a purchase session
 * gives one item per product, spoken by no one. It reads nothing but the session.
 */
export function sessionToTurnItems(session: PersonaBenchSession): HistoryItemInput[] {
  const common = {
    kind: sessionItemKinds[session.kind],
    sessionId: session.segmentId,
    ...(session.timestamp === undefined ? {} : { timestamp: session.timestamp }),
  };
  if (session.kind === 'purchase-history') {
    return session.products.map((product, position) => {
      const line = sessionText({ ...session, products: [product] }).split('\n')[1]!;
      return { id: `${session.segmentId}:${position}`, text: line, ...common };
    });
  }
  const conversationId =
    session.kind === 'conversation' ? `with ${session.targetName ?? 'someone'}` : 'with an AI assistant';
  return session.messages.flatMap((message, position) => {
    const text = oneLine(message.content);
    if (text.length === 0) return [];
    const speaker =
      session.kind === 'user-ai-interaction'
        ? message.role === 'user'
          ? session.person
          : message.role === 'assistant'
            ? 'AI assistant'
            : message.role
        : message.role;
    return [
      {
        id: `${session.segmentId}:${position}`,
        text,
        speaker,
        conversationId,
        ...(speaker === session.person ? { self: true } : {}),
        ...common,
      },
    ];
  });
}

/** The segment id a turn item of {@link sessionToTurnItems} belongs to. */
export function segmentOfTurn(itemId: string): string {
  const separator = itemId.lastIndexOf(':');
  return separator < 0 ? itemId : itemId.slice(0, separator);
}
