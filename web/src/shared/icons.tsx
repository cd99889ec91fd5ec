// Small line icons as inline SVG (no icon font, no emoji font needed).
import type { JSX } from 'preact';

function Icon(props: { d: string; fill?: boolean }): JSX.Element {
  return (
    <svg
      class="icon"
      viewBox="0 0 24 24"
      width="1.1em"
      height="1.1em"
      aria-hidden="true"
      focusable="false"
      fill={props.fill === true ? 'currentColor' : 'none'}
      stroke={props.fill === true ? 'none' : 'currentColor'}
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
    >
      <path d={props.d} />
    </svg>
  );
}

export const PaperclipIcon = (): JSX.Element => (
  <Icon d="M21 11.5l-8.5 8.5a5 5 0 01-7-7L14 4.5a3.5 3.5 0 015 5l-8.5 8.5a2 2 0 01-3-3L15 7.5" />
);
export const SpeakerIcon = (): JSX.Element => (
  <Icon d="M4 9v6h4l5 4V5L8 9H4zM16.5 8.5a5 5 0 010 7M19 6a8.5 8.5 0 010 12" />
);
export const StopIcon = (): JSX.Element => <Icon d="M6 6h12v12H6z" fill />;
export const StarIcon = (): JSX.Element => (
  <Icon d="M12 2.5l2.9 6 6.6.9-4.8 4.6 1.2 6.5L12 17.4l-5.9 3.1 1.2-6.5L2.5 9.4l6.6-.9z" fill />
);
export const PinIcon = (): JSX.Element => <Icon d="M9 3h6l-1 6 4 4H6l4-4-1-6zM12 13v8" />;
export const CloseIcon = (): JSX.Element => <Icon d="M6 6l12 12M18 6L6 18" />;
