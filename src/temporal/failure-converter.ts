// The failure converter of every worker (its activities and, bundled, its workflows) and client:
// a failure's message and stack trace travel in an encoded attribute, so they go through the
// payload codec and are encrypted like any payload (an agent's stderr tail in an activity
// failure, the workflow's own failure), instead of reaching the history, the server's database
// and `temporal workflow show` in clear. Readers without the codec see "Encoded failure".
// Loaded inside the workflow sandbox too (scripts/bundle-workflows.js): imports nothing else.
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
