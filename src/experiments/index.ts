/**
 * Experiments on scenarios (docs/experiments.md): many seeds with confidence intervals
 * (`runSeeds`), paired comparison of scenario files (`compare`), the least setting that meets
 * goals (`tune`), and goals/assertions on figures. Runs go to worker threads, one per core; each
 * function opens its pool and closes it before it returns.
 */
export { runSeeds, SEEDS_MAX, type ExperimentOptions, type SeriesOption, type SeedsResult } from './run-seeds.js';
export { compare, type CompareResult, type FigureComparison, type Difference } from './compare.js';
export { tune, GRID_SETTINGS_MAX, type TuneOptions, type TuneResult, type TuneEvaluation, type TuneRuns, type TuneSearch } from './tune.js';
export { parseGoal, judge, GOAL_OPS, type Goal, type GoalOp, type GoalOn, type GoalVerdict, type QueueVerdict } from './goals.js';
export { FIGURE_NAMES, figureValue, isFigureName, type FigureName, type QueueSummaries } from './figures.js';
export { summarise, studentT95, type FigureSummary } from './statistics.js';
export { seriesBands, type SeriesBands, type BandColumns, type Band, type SeriesField } from './series-bands.js';
export { parseVary, variedConfig, VARY_KEYS, type VaryRange, type VaryKey } from './vary.js';
export { coreCount } from './pool.js';
export { ExperimentArgumentError, SeedRunError, libraryName, type ExperimentErrorCode, type ExperimentOption, type OptionRef, type OptionNamer, type ArgumentDetail } from './errors.js';
