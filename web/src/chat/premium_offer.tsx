// The premium plans with a purchase button: a Telegram Stars invoice (openInvoice in the Mini
// App, the invoice link in a browser). Premium turns on only when Telegram reports the payment.
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ApiClient } from '../shared/api';
import { describeError } from '../shared/errors';
import type { MiniApp } from './telegram';
import type { Plan, Premium } from './types';

function price(plan: Plan): string {
  return plan.price.currency === 'XTR' ? `${plan.price.amount} Stars` : `${plan.price.amount} ${plan.price.currency}`;
}

export function PremiumOffer(props: {
  api: ApiClient;
  miniApp: MiniApp | null;
  reason?: string;
  onPaid: () => void;
}): JSX.Element {
  const { api, miniApp, onPaid } = props;
  const [plans, setPlans] = useState<Plan[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api
      .get<Premium>('/api/v1/premium')
      .then((premium) => setPlans(premium.plans))
      .catch((failure: unknown) => setError(describeError(failure)));
  }, [api]);

  const buy = async (plan: Plan): Promise<void> => {
    setBusy(true);
    setError(null);
    setMessage(null);
    try {
      const invoice = await api.post<{ invoice_link: string }>('/api/v1/premium/invoice', { plan: plan.id });
      if (miniApp !== null) {
        const status = await miniApp.openInvoice(invoice.invoice_link);
        if (status === 'paid') {
          setMessage('Thank you! Premium turns on as soon as Telegram confirms the payment.');
          onPaid();
        } else if (status === 'cancelled') {
          setMessage('The payment was cancelled.');
        } else if (status === 'failed') {
          setError('The payment did not go through. Please try again.');
        }
      } else {
        window.open(invoice.invoice_link, '_blank', 'noopener');
        setMessage('The invoice opened in Telegram. Premium turns on once the payment is confirmed.');
      }
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(false);
    }
  };

  const first = plans?.[0];
  useEffect(() => {
    if (miniApp === null || first === undefined) {
      return undefined;
    }
    const handler = (): void => void buy(first);
    miniApp.setMainButton(`Get Premium · ${price(first)}`, handler);
    return () => miniApp.setMainButton(null, null);
  }, [miniApp, first]);

  return (
    <section class="premium-offer card" aria-labelledby="premium-offer-title">
      <h2 id="premium-offer-title">Get Premium</h2>
      {props.reason !== undefined ? <p>{props.reason}</p> : null}
      <p>Unlimited messages, more voice replies, and a companion that is always there.</p>
      {plans === null && error === null ? <p class="muted">Loading plans…</p> : null}
      <div class="row">
        {(plans ?? []).map((plan) => (
          <button key={plan.id} type="button" class="primary" disabled={busy} onClick={() => void buy(plan)}>
            {plan.days} days · {price(plan)}
          </button>
        ))}
      </div>
      {message !== null ? (
        <p role="status" class="ok-text">
          {message}
        </p>
      ) : null}
      {error !== null ? (
        <div class="error-box" role="alert">
          {error}
        </div>
      ) : null}
    </section>
  );
}
