import type { Config } from '../config/config.js';
import { PipelineError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { StartupCheck } from './checks.js';

/** Raised when a production process refuses to start because a danger check failed. */
export class UnsafeStartupError extends PipelineError {
  readonly checks: readonly StartupCheck[];

  constructor(checks: readonly StartupCheck[]) {
    const lines = checks.map((check) => {
      const override = check.overrideSetting === null ? '' : ` To start anyway, set ${check.overrideSetting}=true.`;
      return `  - ${check.name}: ${check.detail} Fix: ${check.fix}${override}`;
    });
    super('startup_check_failed', `Refusing to start with NODE_ENV=production:\n${lines.join('\n')}\nRun \`doctor\` to see every check.`, {
      context: { checks: checks.map((check) => check.name) },
    });
    this.checks = checks;
  }
}

/** Whether the configuration lets a production process start despite this failed check. */
export function isOverridden(check: StartupCheck, config: Config): boolean {
  return check.overrideSetting === 'ALLOW_UNSAFE_REDIS' && config.storage.allowUnsafeRedis;
}

/**
 * Logs every failed check as a warning with its fix. With NODE_ENV=production, throws
 * UnsafeStartupError when a danger check failed and no setting overrides it; in development and
 * test the process starts anyway.
 */
export function enforceStartupChecks(checks: readonly StartupCheck[], options: { config: Config; logger: Logger }): void {
  const { config, logger } = options;
  for (const check of checks) {
    if (check.ok) {
      logger.debug({ check: check.name }, 'start-up check passed');
      continue;
    }
    logger.warn(
      { check: check.name, severity: check.severity, detail: check.detail, fix: check.fix, overrideSetting: check.overrideSetting },
      'start-up check failed',
    );
  }

  if (config.env !== 'production') return;
  const blocking = checks.filter((check) => !check.ok && check.severity === 'danger' && !isOverridden(check, config));
  if (blocking.length > 0) throw new UnsafeStartupError(blocking);

  const overridden = checks.filter((check) => !check.ok && check.severity === 'danger' && isOverridden(check, config));
  for (const check of overridden) {
    logger.warn({ check: check.name, overrideSetting: check.overrideSetting }, 'starting despite a failed danger check, because an override is set');
  }
}
