export { type Bm25OkapiParameters, createBm25Okapi } from './bm25-okapi.js';
export { type Bm25RetrieverSettings, createBm25Retriever } from './create-bm25-retriever.js';
export { createDenseRetriever, type DenseRetrieverSettings } from './create-dense-retriever.js';
export {
  createDiskCachedEncoder,
  type DiskCachedEncoderSettings,
  type DiskCacheStatistics,
} from './create-disk-cached-encoder.js';
export { createHybridRetriever, type HybridRetrieverSettings } from './create-hybrid-retriever.js';
export {
  createMethodRetriever,
  isRetrievalMethod,
  type MethodRetrieverOptions,
  type RetrievalMethod,
  retrievalMethods,
} from './create-method-retriever.js';
export { createUserplugRetriever, type UserplugRetrieverSettings } from './create-userplug-retriever.js';
export { DownloadError } from './download-error.js';
export {
  type DownloadedFile,
  type DownloadLampOptions,
  downloadLamp,
  lampOfficialBaseUrl,
} from './download-lamp.js';
export {
  createUsageMeter,
  type Generate,
  type GenerateOutput,
  type GenerateUsage,
  type ModelPricing,
  type UsageTotals,
} from './generate.js';
export {
  baselinePrediction,
  isLampBaseline,
  type LampBaseline,
  lampBaselines,
  majorityLabel,
} from './lamp-baselines.js';
export {
  bm25Profile,
  denseProfile,
  isLampMethod,
  type LampMethod,
  lampMethods,
  profileToHistoryItem,
  randomProfile,
  recentProfile,
} from './lamp-methods.js';
export {
  classificationMetrics,
  generationMetrics,
  type LampMetrics,
  lampMetrics,
  ratingMetrics,
} from './lamp-metrics.js';
export { createLampPrompt, type LampPromptOptions } from './lamp-prompts.js';
export {
  extractStringsBetweenQuotes,
  type LampProfileItem,
  type LampTaskInfo,
  type LampTaskKind,
  type LampTaskNumber,
  lampCorpusText,
  lampQuery,
  lampTasks,
  parseLampTask,
} from './lamp-tasks.js';
export { type EvalEncoderOptions, loadEvalEncoder } from './load-eval-encoder.js';
export { generationHelp, type LoadedGenerator, loadGenerator } from './load-generator.js';
export {
  type LampDataset,
  type LampQuestion,
  type LampSplit,
  type LoadLampOptions,
  lampRemoteFolder,
  loadLamp,
} from './load-lamp.js';
export {
  type LoadPersonaBenchOptions,
  listPersonaBench,
  loadPersonaBench,
  type PersonaBenchDataset,
  type PersonaBenchListing,
  type PersonaBenchMessage,
  type PersonaBenchPerson,
  type PersonaBenchProduct,
  type PersonaBenchQuestion,
  type PersonaBenchSession,
  type PersonaBenchSessionKind,
  type PersonaBenchValue,
  parsePersonaBenchTime,
  resolvePersonaBenchDirectory,
} from './load-personabench.js';
export { mapWithConcurrency } from './map-with-concurrency.js';
export { answerTurnRecall, answerTurns } from './personabench-answer-turns.js';
export {
  numpyStringArrayStr,
  officialChunkText,
  officialQaPrompt,
  pythonJsonDumps,
} from './personabench-official-text.js';
export {
  type AnsweredQuestion,
  answerWords,
  cleanAnswerText,
  type QaBreakdown,
  type QaSummary,
  type SummarizeQaOptions,
  summarizeQa,
  wordSetScores,
} from './personabench-qa-metrics.js';
export {
  expandEvidenceCombinations,
  isSkippedType,
  officialCategory,
  type RetrievalBreakdown,
  type RetrievalScore,
  type RetrievalSummary,
  roundOfficial,
  scoreCombination,
  scoreRetrieval,
  summarizeRetrieval,
} from './personabench-retrieval-metrics.js';
export { parsePythonFloat } from './python-float.js';
export { barChartSvg, lineChartSvg, renderHtmlReport, renderMarkdownReport } from './render-report.js';
export {
  defaultResultsDirectory,
  readResults,
  resultFileName,
  type StoredResult,
  type StoredResultBase,
  writeResult,
} from './results-store.js';
export type { PersonaQuotes, Retriever, RetrieverIndex } from './retriever.js';
export { type RougeScore, rougeScore, tokenizeForRouge } from './rouge-score.js';
export { runEvalCli } from './run-eval-cli.js';
export {
  type LampModel,
  type LampPrediction,
  type LampRunResult,
  lampLeaderboardFile,
  type RunLampOptions,
  runLamp,
} from './run-lamp.js';
export {
  goldContextIds,
  type PersonaBenchAnswer,
  type PersonaBenchQaOptions,
  type PersonaBenchQaResult,
  runPersonaBenchQa,
} from './run-personabench-qa.js';
export {
  type PersonaBenchQuestionResult,
  type PersonaBenchRetrievalOptions,
  type PersonaBenchRetrievalResult,
  type PersonaBenchView,
  type PersonaRecallSummary,
  runPersonaBenchRetrieval,
  type SessionTextFormat,
  sessionDocument,
} from './run-personabench-retrieval.js';
export {
  formatSessionTime,
  segmentOfTurn,
  sessionItemKinds,
  sessionText,
  sessionToHistoryItem,
  sessionToTurnItems,
} from './session-to-history-item.js';
