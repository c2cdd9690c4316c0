import type { TrainingProgress } from './train-loop.js';

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

/** One progress line: `epoch 2/5 [######----------]  38%  step 12/40  loss 1.8123  96.1 items/s  ETA 0:21`. */
export function formatTrainingProgress(progress: TrainingProgress, width = 20): string {
  const fraction = progress.steps > 0 ? Math.min(1, progress.step / progress.steps) : 1;
  const filled = Math.round(fraction * width);
  const validation =
    progress.validationLoss === undefined || Number.isNaN(progress.validationLoss)
      ? ''
      : `  val ${progress.validationLoss.toFixed(4)}`;
  return (
    `epoch ${progress.epoch}/${progress.epochs} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` +
    `${String(Math.floor(fraction * 100)).padStart(3)}%  step ${progress.step}/${progress.steps}  ` +
    `loss ${progress.loss.toFixed(4)}${validation}  ${progress.examplesPerSecond.toFixed(1)} items/s  ETA ${clock(progress.etaSeconds)}`
  );
}
