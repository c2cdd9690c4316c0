/** Named float32 tensors (row-major) with their shapes: what training learns and checkpoints. */
export interface ParameterSet {
  /** Values by name. */
  values: Record<string, Float32Array>;
  /** Shapes by name (`[]` for a scalar). */
  shapes: Record<string, number[]>;
}

/** A deep copy. */
export function cloneParameters(parameters: ParameterSet): ParameterSet {
  return {
    values: Object.fromEntries(
      Object.entries(parameters.values).map(([name, value]) => [name, value.slice()]),
    ),
    shapes: Object.fromEntries(Object.entries(parameters.shapes).map(([name, shape]) => [name, [...shape]])),
  };
}

/** Settings of {@link AdamOptimizer}. */
export interface AdamSettings {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled weight decay (AdamW) per parameter name; others get none. */
  weightDecay?: Record<string, number>;
}

/** Adam's moments and step count, serializable for checkpoints. */
export interface AdamState {
  step: number;
  first: Record<string, Float32Array>;
  second: Record<string, Float32Array>;
}

/** Adam(W) over plain arrays: the update is plain JavaScript, so it is exact to checkpoint and resume. */
export class AdamOptimizer {
  readonly state: AdamState;
  private readonly settings: Required<Omit<AdamSettings, 'weightDecay'>> & {
    weightDecay: Record<string, number>;
  };

  constructor(settings: AdamSettings, state?: AdamState) {
    this.settings = {
      learningRate: settings.learningRate,
      beta1: settings.beta1 ?? 0.9,
      beta2: settings.beta2 ?? 0.999,
      epsilon: settings.epsilon ?? 1e-8,
      weightDecay: settings.weightDecay ?? {},
    };
    this.state = state ?? { step: 0, first: {}, second: {} };
  }

  /** One update of the named parameters with their gradients. */
  apply(parameters: ParameterSet, gradients: Record<string, Float32Array>): void {
    const { learningRate, beta1, beta2, epsilon, weightDecay } = this.settings;
    this.state.step++;
    const correction1 = 1 - beta1 ** this.state.step;
    const correction2 = 1 - beta2 ** this.state.step;
    for (const [name, gradient] of Object.entries(gradients)) {
      const values = parameters.values[name]!;
      this.state.first[name] ??= new Float32Array(values.length);
      this.state.second[name] ??= new Float32Array(values.length);
      const first = this.state.first[name];
      const second = this.state.second[name];
      const decay = weightDecay[name] ?? 0;
      for (let index = 0; index < values.length; index++) {
        const g = gradient[index]!;
        first[index] = beta1 * first[index]! + (1 - beta1) * g;
        second[index] = beta2 * second[index]! + (1 - beta2) * g * g;
        const update = first[index]! / correction1 / (Math.sqrt(second[index]! / correction2) + epsilon);
        values[index] = values[index]! - learningRate * (update + decay * values[index]!);
      }
    }
  }
}
