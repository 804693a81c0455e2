import type { Config } from '../config/config.js';
import type { DoctorReport } from './doctor.js';
import { isOverridden } from './enforce.js';
import type { StartupCheck } from './checks.js';

/** Returns true when a danger check failed; `doctor` then exits non-zero, overrides or not. */
export function hasFailedDanger(checks: readonly StartupCheck[]): boolean {
  return checks.some((check) => !check.ok && check.severity === 'danger');
}

/** Formats the report for a terminal: one line per check, with the fix under each failure. */
export function formatDoctorReport(report: DoctorReport, config: Config): string {
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const lines = [`Self-checks of the ${report.backend} backend (NODE_ENV=${report.env}):`, ''];

  for (const check of report.checks) {
    const status = check.ok ? 'pass' : 'FAIL';
    const label = check.ok ? '' : `[${check.severity}] `;
    lines.push(`  ${status}  ${check.name.padEnd(width)}  ${label}${check.detail}`);
    if (check.ok) continue;
    const indent = ' '.repeat(width + 10);
    lines.push(`${indent}fix: ${check.fix}`);
    if (check.severity === 'danger') lines.push(`${indent}${consequence(check, config)}`);
  }

  const failed = report.checks.filter((check) => !check.ok);
  const dangers = failed.filter((check) => check.severity === 'danger').length;
  lines.push('');
  lines.push(failed.length === 0 ? 'Every check passed.' : `${failed.length} check(s) failed, ${dangers} of them danger.`);
  return lines.join('\n');
}

function consequence(check: StartupCheck, config: Config): string {
  if (isOverridden(check, config)) return `A production start proceeds anyway, because ${check.overrideSetting ?? ''}=true.`;
  const override = check.overrideSetting === null ? '' : ` (unless ${check.overrideSetting}=true)`;
  return `In distributed mode with NODE_ENV=production this stops serve, worker and start${override}.`;
}
