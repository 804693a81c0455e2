import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Folder of the bundled sample events (Stripe Event objects) and journeys.json. */
export const SAMPLES_DIR = fileURLToPath(new URL('../../fixtures/stripe-events/', import.meta.url));

const journeySchema = z.object({
  id: z.string(),
  description: z.string(),
  events: z.array(z.string()).min(1),
  checkpoints: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  expected_final_state: z.record(z.string(), z.unknown()),
});

const journeysFileSchema = z.object({ journeys: z.array(journeySchema) });

export type Journey = z.infer<typeof journeySchema>;

/** A sample event file: its name and its exact bytes, which is what gets signed. */
export interface SampleEvent {
  readonly file: string;
  readonly raw: string;
}

export function listSampleFiles(): string[] {
  return readdirSync(SAMPLES_DIR)
    .filter((name) => name.endsWith('.json') && name !== 'journeys.json')
    .sort();
}

export function readSample(file: string): SampleEvent {
  if (!listSampleFiles().includes(file)) {
    throw new Error(`No sample event named "${file}"; run \`send --list\` to see the names.`);
  }
  return { file, raw: readFileSync(new URL(file, `file://${SAMPLES_DIR}`), 'utf8') };
}

export function loadJourneys(): Journey[] {
  const text = readFileSync(new URL('journeys.json', `file://${SAMPLES_DIR}`), 'utf8');
  return journeysFileSchema.parse(JSON.parse(text)).journeys;
}

export function findJourney(id: string): Journey {
  const journeys = loadJourneys();
  const journey = journeys.find((candidate) => candidate.id === id);
  if (journey === undefined) {
    throw new Error(`No journey named "${id}"; known journeys: ${journeys.map((known) => known.id).join(', ')}.`);
  }
  return journey;
}
