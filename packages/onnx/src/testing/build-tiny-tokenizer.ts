/** Special tokens of the tiny byte-level tokenizer (ChatML, as Qwen2 uses). */
export const tinyChatTokens = {
  endOfText: '<|endoftext|>',
  imStart: '<|im_start|>',
  imEnd: '<|im_end|>',
} as const;

/** The ChatML template of the tiny tokenizer: Qwen2's shape, with a default system message. */
export const tinyChatTemplate =
  "{%- if messages[0]['role'] != 'system' %}{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{%- endif %}" +
  "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

const defaultCorpus =
  'The user likes hiking in the mountains and trail running on weekends. She cooks pasta, reads novels ' +
  'and plans trips to Japan, Italy and Spain. You are a helpful assistant. Suggest a weekend plan for me. ' +
  'What should I cook tonight? I love coffee in the morning and tea in the evening. The weather is nice, ' +
  'so we went to the beach with the kids and the dog. My favourite album is playing at the concert. ' +
  'Please answer briefly and personally, as this user would like it. Thanks for the recommendation!';

/** GPT-2's reversible map from bytes to printable characters. */
function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let code = 33; code <= 126; code++) printable.push(code);
  for (let code = 161; code <= 172; code++) printable.push(code);
  for (let code = 174; code <= 255; code++) printable.push(code);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let byte = 0; byte < 256; byte++) {
    if (printable.includes(byte)) table[byte] = String.fromCharCode(byte);
    else {
      table[byte] = String.fromCharCode(256 + extra);
      extra += 1;
    }
  }
  return table;
}

const wordPattern = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** Settings of {@link buildTinyByteTokenizer}. */
export interface TinyByteTokenizerSettings {
  /** BPE merges learned from the corpus. Default 96. */
  merges?: number;
  /** Text the merges are learned from. Default: a few sentences about hobbies and plans. */
  corpus?: string;
  /** `model_max_length` in tokenizer_config.json. Default 2048. */
  maxLength?: number;
}

/** The files of a tokenizer in Hugging Face layout, as JSON-ready objects. */
export interface TinyTokenizerFiles {
  /** Contents of tokenizer.json. */
  tokenizer: Record<string, unknown>;
  /** Contents of tokenizer_config.json. */
  tokenizerConfig: Record<string, unknown>;
  /** Number of ids, special tokens included. */
  vocabSize: number;
  /** Ids of the special tokens by content. */
  specialIds: Record<string, number>;
}

/**
 * A byte-level BPE tokenizer (GPT-2 / Qwen2 style: 256 byte symbols, merges learned from a small
 * corpus, ChatML special tokens and chat template). Every text round-trips through it.
 */
export function buildTinyByteTokenizer(settings: TinyByteTokenizerSettings = {}): TinyTokenizerFiles {
  const byteChars = bytesToUnicode();
  const vocab = new Map<string, number>();
  for (const character of byteChars) vocab.set(character, vocab.size);
  const encoder = new TextEncoder();
  const words = [...(settings.corpus ?? defaultCorpus).matchAll(wordPattern)].map((match) =>
    [...encoder.encode(match[0])].map((byte) => byteChars[byte]!),
  );
  const merges: string[] = [];
  const mergeCount = settings.merges ?? 96;
  while (merges.length < mergeCount) {
    const pairs = new Map<string, number>();
    for (const symbols of words) {
      for (let index = 0; index + 1 < symbols.length; index++) {
        const pair = `${symbols[index]} ${symbols[index + 1]}`;
        pairs.set(pair, (pairs.get(pair) ?? 0) + 1);
      }
    }
    let best: string | undefined;
    let bestCount = 1;
    for (const [pair, count] of pairs) {
      if (count > bestCount) {
        best = pair;
        bestCount = count;
      }
    }
    if (best === undefined) break;
    merges.push(best);
    const [left, right] = best.split(' ') as [string, string];
    vocab.set(left + right, vocab.size);
    for (const symbols of words) {
      for (let index = 0; index + 1 < symbols.length; index++) {
        if (symbols[index] === left && symbols[index + 1] === right) symbols.splice(index, 2, left + right);
      }
    }
  }
  const specialIds: Record<string, number> = {};
  const addedTokens = Object.values(tinyChatTokens).map((content) => {
    const id = vocab.size + Object.keys(specialIds).length;
    specialIds[content] = id;
    return {
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    };
  });
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: addedTokens,
      normalizer: null,
      pre_tokenizer: byteLevel,
      post_processor: { ...byteLevel, trim_offsets: false },
      decoder: byteLevel,
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: '',
        end_of_word_suffix: '',
        fuse_unk: false,
        byte_fallback: false,
        ignore_merges: false,
        vocab: Object.fromEntries(vocab),
        merges,
      },
    },
    tokenizerConfig: {
      tokenizer_class: 'Qwen2Tokenizer',
      bos_token: null,
      eos_token: tinyChatTokens.imEnd,
      pad_token: tinyChatTokens.endOfText,
      unk_token: null,
      add_bos_token: false,
      add_prefix_space: false,
      clean_up_tokenization_spaces: false,
      model_max_length: settings.maxLength ?? 2048,
      chat_template: tinyChatTemplate,
      added_tokens_decoder: Object.fromEntries(addedTokens.map(({ id, ...token }) => [String(id), token])),
    },
    vocabSize: vocab.size + addedTokens.length,
    specialIds,
  };
}

const bertSpecialTokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

const bertWords = (
  'the a an and or but i you he she we they it is are was were be to of in on at for with my your ' +
  'love like hike hiking mountain mountains trail trails run running cook cooking pasta pizza coffee tea ' +
  'book books novel read reading trip travel japan italy spain beach dog cat kids weekend plan plans ' +
  'report tax quarterly friday due music concert album guitar movie game games chess team work project'
).split(' ');

/**
 * A BERT WordPiece tokenizer (lower-casing, `[CLS] … [SEP]`) whose vocabulary covers every
 * lower-case ASCII text: single characters and `##` continuations, plus some whole words.
 */
export function buildTinyWordPieceTokenizer(settings: { maxLength?: number } = {}): TinyTokenizerFiles {
  const vocab = new Map<string, number>();
  for (const token of bertSpecialTokens) vocab.set(token, vocab.size);
  const characters = 'abcdefghijklmnopqrstuvwxyz0123456789'.split('');
  const punctuation = '.,!?;:\'"()-/&%$#@*+=<>[]{}_~`^|\\'.split('');
  for (const character of [...characters, ...punctuation]) vocab.set(character, vocab.size);
  for (const character of characters) vocab.set(`##${character}`, vocab.size);
  for (const word of bertWords) if (!vocab.has(word)) vocab.set(word, vocab.size);
  const id = (token: string): number => vocab.get(token)!;
  const specialIds = Object.fromEntries(bertSpecialTokens.map((token) => [token, id(token)]));
  return {
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: bertSpecialTokens.map((content) => ({
        id: id(content),
        content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: true,
      })),
      normalizer: {
        type: 'BertNormalizer',
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: null,
        lowercase: true,
      },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [
          { SpecialToken: { id: '[CLS]', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '[SEP]', type_id: 0 } },
        ],
        pair: [
          { SpecialToken: { id: '[CLS]', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '[SEP]', type_id: 0 } },
          { Sequence: { id: 'B', type_id: 1 } },
          { SpecialToken: { id: '[SEP]', type_id: 1 } },
        ],
        special_tokens: {
          '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
          '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
        },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: {
        type: 'WordPiece',
        unk_token: '[UNK]',
        continuing_subword_prefix: '##',
        max_input_chars_per_word: 100,
        vocab: Object.fromEntries(vocab),
      },
    },
    tokenizerConfig: {
      tokenizer_class: 'BertTokenizer',
      do_lower_case: true,
      model_max_length: settings.maxLength ?? 128,
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      mask_token: '[MASK]',
      clean_up_tokenization_spaces: true,
    },
    vocabSize: vocab.size,
    specialIds,
  };
}
