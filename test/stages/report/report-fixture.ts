/** Loads the committed synthetic ReportInput fixture (see test/fixtures/report/generate-report-input.ts). */
import { readFileSync } from 'node:fs';
import type { ReportInputRaw } from '../../../schemas/report.js';
import { fixturePath } from '../../helpers/paths.js';

export function loadReportFixture(): ReportInputRaw {
  return JSON.parse(readFileSync(fixturePath('report', 'report-input.json'), 'utf8')) as ReportInputRaw;
}
