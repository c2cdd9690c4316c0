import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { FileFormatError, type TokenCounter } from '@userplug/core';

/** One message for a chat template. */
export interface TemplateMessage {
  /** `system`, `user` or `assistant`. */
  role: string;
  /** The text. */
  content: string;
}

/** A Hugging Face tokenizer loaded from local files, with its chat template. */
export interface ChatTokenizer {
  /** Names the tokenizer, such as `onnx:Qwen2.5-0.5B-Instruct`. */
  readonly id: string;
  /** True when tokenizer_config.json carries a chat template. */
  readonly hasChatTemplate: boolean;
  /** Every special token id (never mixed into soft prompts). */
  readonly specialIds: ReadonlySet<number>;
  /** The tokenizer's end-of-sequence token, when it has one. */
  readonly eosTokenId: number | undefined;
  /** The tokenizer's padding token, when it has one. */
  readonly padTokenId: number | undefined;
  /** Token ids of a text; special tokens written in the text (such as `<|im_end|>`) become special ids; nothing is added. */
  encode(text: string): number[];
  /** Text of token ids, special tokens left out. */
  decode(ids: readonly number[]): string;
  /**
   * Renders messages with the chat template, ending with the assistant's turn opener. Without a
   * template, messages are joined with blank lines.
   */
  renderChat(messages: readonly TemplateMessage[]): string;
  /** Counts tokens as this model does, for persona budgets. */
  readonly tokenCounter: TokenCounter;
}

/**
 * Loads tokenizer.json and tokenizer_config.json from a model directory with
 * `@huggingface/transformers`, from local files only.
 */
export async function loadChatTokenizer(modelDirectory: string, id: string): Promise<ChatTokenizer> {
  const directory = resolve(modelDirectory);
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) {
    const path = join(directory, file);
    if (!existsSync(path)) {
      throw new FileFormatError(
        path,
        `${path} is missing. Download the model's tokenizer files into ${directory}, or fix \`modelDirectory\`.`,
      );
    }
  }
  const { AutoTokenizer } = await import('@huggingface/transformers');
  let tokenizer: PreTrainedTokenizer;
  try {
    tokenizer = await AutoTokenizer.from_pretrained(directory, { local_files_only: true });
  } catch (error) {
    throw new FileFormatError(
      join(directory, 'tokenizer.json'),
      `The tokenizer in ${directory} could not be loaded: ${(error as Error).message}. Use the tokenizer files exported with the model.`,
      { cause: error },
    );
  }
  const hasChatTemplate = Boolean(tokenizer.chat_template);
  // Long texts recur (system prompts, persona blocks, history items): remember their ids.
  const remembered = new Map<string, number[]>();
  const encode = (text: string): number[] => {
    if (text.length === 0) return [];
    if (text.length < 64) return tokenizer.encode(text, { add_special_tokens: false });
    let ids = remembered.get(text);
    if (ids) {
      remembered.delete(text);
    } else {
      ids = tokenizer.encode(text, { add_special_tokens: false });
      if (remembered.size >= 256) remembered.delete(remembered.keys().next().value!);
    }
    remembered.set(text, ids);
    return [...ids];
  };
  const count = (text: string) => encode(text).length;
  return {
    id,
    hasChatTemplate,
    specialIds: new Set(tokenizer.all_special_ids),
    eosTokenId: tokenizer.eos_token_id ?? undefined,
    padTokenId: tokenizer.pad_token_id ?? undefined,
    encode,
    decode: (ids) => tokenizer.decode([...ids], { skip_special_tokens: true }),
    renderChat(messages) {
      if (!hasChatTemplate) return `${messages.map((message) => message.content).join('\n\n')}\n\n`;
      return tokenizer.apply_chat_template(
        messages.map((message) => ({ ...message })),
        { tokenize: false, add_generation_prompt: true },
      ) as string;
    },
    tokenCounter: {
      id,
      count,
      truncate(text, maxTokens) {
        if (count(text) <= maxTokens) return text;
        const characters = Array.from(text);
        let low = 0;
        let high = characters.length;
        // Longest prefix (whole code points) that still fits.
        while (low < high) {
          const middle = Math.ceil((low + high) / 2);
          if (count(characters.slice(0, middle).join('')) <= maxTokens) low = middle;
          else high = middle - 1;
        }
        return characters.slice(0, low).join('');
      },
    },
  };
}
