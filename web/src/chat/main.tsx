import { render } from 'preact';
import '../shared/base.css';
import './chat.css';
import { App } from './app';

const root = document.getElementById('app');
if (root !== null) {
  render(<App />, root);
}
