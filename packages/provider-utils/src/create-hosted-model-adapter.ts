import type {
  FinishReason,
  GenerateRequest,
  GenerateResult,
  ModelAdapter,
  Persona,
  Personalizer,
  StreamPart,
  ToolCall,
  UserplugWarning,
} from '@userplug/core';
import { type CallScope, openCallScope } from './call-scope.js';
import { type CheckedRequest, checkGenerateRequest } from './check-generate-request.js';
import {
  hostedModelUsage,
  type ModelPrice,
  modelTimings,
  type PersonaAccount,
  type ReportedUsage,
} from './model-usage.js';
import type { ProviderErrorContext, ProviderIdentity } from './provider-failure.js';

/** A persona fitted to the budget in the model's tokens, with the warnings of fitting it. */
export interface FittedPersona extends PersonaAccount {
  /** The persona to send (empty text when none). */
  persona: Persona;
  /** Warnings of building and fitting it. */
  warnings: UserplugWarning[];
}

/** How a vendor's answer ended, in provider-neutral words, before accounting. */
export interface VendorFinish {
  /** The vendor's own finish reason. */
  rawFinishReason: string | undefined;
  /** Token counts, when the vendor reported them. */
  usage: ReportedUsage | undefined;
  /** The vendor's response id. */
  responseId: string | undefined;
  /** The model that answered, when the vendor said. */
  modelId: string | undefined;
  /** Warnings about the answer (a refusal). */
  warnings: UserplugWarning[];
}

/** A whole answer of a vendor. */
export interface VendorAnswer extends VendorFinish {
  /** The text. */
  text: string;
  /** Tool calls, in order. */
  toolCalls: ToolCall[];
}

/** A part of a vendor's stream, already in userplug's words. */
export type VendorStreamPart = Extract<StreamPart, { type: 'text-delta' | 'tool-call' }>;

/** What a hosted adapter supplies to {@link createHostedModelAdapter}: the vendor-specific steps of a call. */
export interface HostedModel<Client extends { maxRetries: number }, Body> {
  /** Who the vendor is, for messages. */
  identity: ProviderIdentity;
  /** The model every call uses. */
  modelId: string;
  /** Builds the personas. */
  personalizer: Personalizer;
  /** Whether the adapter made `personalizer` (and disposes it). */
  ownsPersonalizer: boolean;
  /** The model's price, when known. */
  price: ModelPrice | undefined;
  /** The vendor client (its SDK makes `maxRetries` retries); throws when it cannot be made (a missing API key). Called first on every request. */
  connect(): Client;
  /** Builds the persona and fits it to the budget in the model's tokens. Ingests `request.history` first. */
  fitPersona(client: Client, request: CheckedRequest, signal: AbortSignal): Promise<FittedPersona>;
  /** The vendor request body; pushes `unsupported-setting` warnings for fields the vendor cannot take. */
  buildBody(request: CheckedRequest, persona: Persona, warnings: UserplugWarning[]): Body;
  /** Sends the body and reads the whole answer. */
  generate(client: Client, body: Body, signal: AbortSignal): Promise<VendorAnswer>;
  /** Sends the body for a stream: yields parts as they arrive, returns how it ended. */
  stream(client: Client, body: Body, signal: AbortSignal): AsyncGenerator<VendorStreamPart, VendorFinish>;
  /** The vendor's finish reason in userplug's words. */
  finishReason(raw: string | undefined): FinishReason;
  /** Whatever the vendor SDK threw, as a `ProviderError` (a `UserplugError` passes through). */
  normalizeError(error: unknown, context: ProviderErrorContext): unknown;
  /** Clock for timings, in milliseconds. Default `performance.now`. */
  now?: () => number;
}

/**
 * A {@link ModelAdapter} from a vendor's steps: every call checks the request, connects (a missing key is
 * reported here), fits the persona, sends the body, and normalises the answer (finish reason, usage, cost,
 * timings, warnings) and the errors. An aborted call rejects at once with an `AbortError` and stops the vendor
 * request; so does leaving a stream early.
 */
export function createHostedModelAdapter<Client extends { maxRetries: number }, Body>(
  model: HostedModel<Client, Body>,
): ModelAdapter {
  const now = model.now ?? (() => performance.now());
  const { identity, modelId } = model;
  const describe = (request: GenerateRequest) =>
    `Generation for user "${String(request?.userId)}" with ${identity.provider}:${modelId}`;

  function result(
    fitted: FittedPersona,
    answer: VendorAnswer,
    warnings: UserplugWarning[],
    clock: { startedAt: number; firstTextAt: number | undefined; streamed: boolean },
  ): GenerateResult {
    const allWarnings = [...warnings, ...answer.warnings];
    const usage = hostedModelUsage({
      persona: fitted,
      reported: answer.usage,
      price: model.price,
      vendor: identity.vendor,
      modelId,
      warnings: allWarnings,
    });
    return {
      text: answer.text,
      toolCalls: answer.toolCalls,
      finishReason: model.finishReason(answer.rawFinishReason),
      rawFinishReason: answer.rawFinishReason,
      persona: fitted.persona,
      usage,
      timings: modelTimings({ ...clock, finishedAt: now(), outputTokens: usage.outputTokens }),
      warnings: allWarnings,
      response: { id: answer.responseId, modelId: answer.modelId ?? modelId },
    };
  }

  /** Checks, connects and fits the persona: everything before the vendor request. */
  async function prepare(request: GenerateRequest, scope: CallScope) {
    const checked = checkGenerateRequest(request);
    const client = model.connect();
    scope.throwIfAborted();
    const fitted = await scope.guard(model.fitPersona(client, checked, scope.signal));
    const warnings = [...fitted.warnings];
    const body = model.buildBody(checked, fitted.persona, warnings);
    scope.throwIfAborted();
    return { client, fitted, warnings, body };
  }

  async function generate(request: GenerateRequest): Promise<GenerateResult> {
    const startedAt = now();
    const scope = openCallScope(request?.signal, describe(request));
    let client: Client | undefined;
    try {
      const prepared = await prepare(request, scope);
      client = prepared.client;
      const answer = await scope.guard(model.generate(prepared.client, prepared.body, scope.signal));
      return result(prepared.fitted, answer, prepared.warnings, {
        startedAt,
        firstTextAt: answer.text === '' ? undefined : now(),
        streamed: false,
      });
    } catch (error) {
      throw scope.failure(error, (cause) => normalize(cause, client));
    } finally {
      scope.close();
    }
  }

  async function* stream(request: GenerateRequest): AsyncGenerator<StreamPart> {
    const startedAt = now();
    const scope = openCallScope(request?.signal, describe(request));
    let client: Client | undefined;
    let parts: AsyncGenerator<VendorStreamPart, VendorFinish> | undefined;
    try {
      const prepared = await prepare(request, scope);
      client = prepared.client;
      parts = model.stream(prepared.client, prepared.body, scope.signal);
      // Asked for before the persona part is handed out, so the request is in flight while the caller reads it.
      let next = parts.next();
      next.catch(() => {});
      yield { type: 'persona', persona: prepared.fitted.persona, warnings: [...prepared.warnings] };
      let text = '';
      const toolCalls: ToolCall[] = [];
      let firstTextAt: number | undefined;
      for (;;) {
        const step = await scope.guard(next);
        if (step.done) {
          // Vendor SDKs end an aborted stream quietly: a cut-off answer must not look complete.
          scope.throwIfAborted();
          const answer = { ...step.value, text, toolCalls };
          yield {
            type: 'finish',
            ...result(prepared.fitted, answer, prepared.warnings, { startedAt, firstTextAt, streamed: true }),
          };
          return;
        }
        const part = step.value;
        if (part.type === 'text-delta') {
          firstTextAt ??= now();
          text += part.text;
        } else {
          toolCalls.push({ toolCallId: part.toolCallId, toolName: part.toolName, input: part.input });
        }
        yield part;
        next = parts.next();
      }
    } catch (error) {
      throw scope.failure(error, (cause) => normalize(cause, client));
    } finally {
      scope.close();
      parts?.return(undefined as unknown as VendorFinish).catch(() => {});
    }
  }

  function normalize(error: unknown, client: Client | undefined): unknown {
    return model.normalizeError(error, {
      modelId,
      // The SDK's own count, for messages such as "after 2 retries".
      maxRetries: client?.maxRetries ?? 0,
    });
  }

  return {
    provider: identity.provider,
    modelId,
    personalizer: model.personalizer,
    generate,
    stream,
    async dispose() {
      if (model.ownsPersonalizer) await model.personalizer.dispose();
    },
  };
}
