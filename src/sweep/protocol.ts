import * as path from 'node:path';
import { packageRoot } from '../util/paths.js';

/**
 * What travels between `laconic sweep --queue` and `laconic worker` through Redis. Workers may be on
 * other machines, so a job carries the run's whole config, and its result carries every artefact the
 * sweep needs for its tables and plots (metrics, final evaluation, resolved config, stderr tail).
 */

export const PROTOCOL_VERSION = 1;

export interface RunJobData {
  v: number;
  /** Sweep id (sweep name + a hash of where its results go): keys the job. */
  sweep: string;
  run: string;
  /** The run's config.json, as text. */
  config: string;
  steps: number;
  /**
   * model.checkpoint relative to the package root when it lies inside the package (a shipped
   * checkpoint): each worker maps it onto its own install. Null: the path is used as is.
   */
  checkpoint_in_package: string | null;
}

export interface RunJobProgress {
  worker: string;
  step?: number;
  accuracy?: number;
  length?: number;
  /** Set just before a failed run's job fails, so the sweep can show the stderr tail. */
  failure?: { error: string; exit_code: number | null; stderr_tail: string };
}

export interface RunJobResult {
  v: number;
  run: string;
  worker: string;
  wall_s: number;
  started_at: string;
  finished_at: string;
  /** metrics.jsonl exactly as the trainer wrote it. */
  metrics_jsonl: string;
  /** null when the run wrote none. */
  eval: unknown;
  /** null when the run wrote none. */
  resolved_config: unknown;
  stderr_tail: string;
}

/** BullMQ job ids may not contain ':' (its key separator). */
export function jobId(sweep: string, run: string): string {
  return `${sweep}__${run}`.replace(/:/g, '_');
}

/** The checkpoint path relative to this package, when the config's checkpoint is inside it. */
export function checkpointInPackage(configText: string): string | null {
  const cfg = JSON.parse(configText) as { model?: { checkpoint?: string | null } };
  const ck = cfg.model?.checkpoint;
  if (!ck || !path.isAbsolute(ck)) return null;
  const rel = path.relative(packageRoot(), ck);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : null;
}

/** A job's config text with a package-relative checkpoint mapped onto this worker's install. */
export function localizeConfig(data: RunJobData): string {
  if (!data.checkpoint_in_package) return data.config;
  const cfg = JSON.parse(data.config) as { model: { checkpoint: string | null } };
  cfg.model.checkpoint = path.join(packageRoot(), ...data.checkpoint_in_package.split('/'));
  return JSON.stringify(cfg, null, 2) + '\n';
}
