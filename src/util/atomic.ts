import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Write a file so that a crash (even kill -9) at any moment leaves either the old
 * content or the new content on disk, never a torn file: temp file, fsync, rename, fsync dir.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  writeFileSynced(tmp, data);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true }); // e.g. `file` is a folder: leave no temp file behind
    throw e;
  }
  fsyncDir(dir);
}

/** Write and fsync a file in place (for files inside a directory that is itself swapped in atomically). */
export function writeFileSynced(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

export function fsyncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
  }
}

/**
 * Replace a whole directory atomically: the caller fills `tmpDir`, then this swaps it in.
 * The previous directory is kept as `<dir>.old` until the swap has completed, so a crash
 * in between leaves one loadable copy (loaders fall back to `.old` when `dir` is missing).
 */
export function swapDirAtomic(tmpDir: string, dir: string): void {
  const old = `${dir}.old`;
  fs.rmSync(old, { recursive: true, force: true });
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmpDir, dir);
  fsyncDir(path.dirname(dir));
  fs.rmSync(old, { recursive: true, force: true });
}

/** The directory to load: `dir`, or its `.old` twin if a crash interrupted a swap. */
export function resolveSwappedDir(dir: string): string {
  if (fs.existsSync(dir)) return dir;
  if (fs.existsSync(`${dir}.old`)) return `${dir}.old`;
  return dir;
}
