import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';

describe('METRICS_PORT', () => {
  it('is unset by default and when empty', () => {
    expect(loadConfig({}).http.metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: '' }).http.metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: '  ' }).http.metricsPort).toBeUndefined();
  });

  it('reads a port, 0 letting the system choose', () => {
    expect(loadConfig({ METRICS_PORT: '9464' }).http.metricsPort).toBe(9464);
    expect(loadConfig({ METRICS_PORT: '0' }).http.metricsPort).toBe(0);
  });

  it('rejects a value that is not a port', () => {
    expect(() => loadConfig({ METRICS_PORT: 'metrics' })).toThrow('METRICS_PORT should be a whole number, got "metrics"');
    expect(() => loadConfig({ METRICS_PORT: '65536' })).toThrow('METRICS_PORT should be at most 65535, got "65536"');
  });
});
