// Shared setup of the dashboard-link tests (test/dashboard/links-*.test.ts): importing it starts the test
// server for the importing file, with a clock the sign-in and session tests can move (`time.offsetMs`).
import { useTestApi } from './api.js';

export const time = { offsetMs: 0 };
export const api = useTestApi({ clock: { now: () => new Date(Date.now() + time.offsetMs) } });
