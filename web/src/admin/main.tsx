import { render } from 'preact';
import 'uplot/dist/uPlot.min.css';
import '../shared/base.css';
import './admin.css';
import { AdminApp } from './app';

const root = document.getElementById('app');
if (root !== null) {
  render(<AdminApp />, root);
}
