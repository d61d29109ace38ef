/**
 * quarry's web page: search (with highlights, per-tier scores and a side-by-side mode
 * comparison) and a collection's state (model and fingerprint, index, sizes, versions with
 * rollback, evaluation history, live latency). Everything comes from the public HTTP API
 * with the key the person pastes; `quarry serve` serves the bundle (src/server/routes/ui.ts).
 */
import { render } from 'preact';
import { App } from './App.js';
import './styles.css';

render(<App />, document.getElementById('app')!);
