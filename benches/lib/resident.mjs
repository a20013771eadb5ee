// The resident memory of the browser a benchmark started: every process descended from this
// one (Chromium and its helpers), read from /proc (Linux).
import { readdirSync, readFileSync } from 'node:fs';

const PAGE = 4096;

/** Resident bytes of every descendant of this process. */
export function residentBytes() {
  const parent = new Map();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parent.set(Number(pid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone */ }
  }
  const mine = (pid) => { for (let p = pid; p > 1; p = parent.get(p)) if (p === process.pid) return true; return false; };
  let total = 0;
  for (const pid of parent.keys()) {
    if (pid === process.pid || !mine(pid)) continue;
    try {
      total += Number(readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE;
    } catch { /* gone */ }
  }
  return total;
}
