/**
 * Stripe's Payment Element, used when the payments service runs on Stripe (PreparePayment says
 * `gateway: "stripe"`) and the gateway is configured with the account's publishable key
 * (STRIPE_PUBLISHABLE_KEY, served in /app-config.json). Stripe.js is loaded from js.stripe.com
 * only on this page; the Content-Security-Policy allows it only when the key is set. The payment
 * is confirmed in the browser with the intent's clientSecret; fulfilment still follows the
 * webhook. (Stripe cannot be reached from this project's test machines, so this path is not
 * covered by the browser tests; the development payment provider's test-card form is.)
 */
import { loadStripe, type Stripe, type StripeElements, type StripePaymentElement } from "@stripe/stripe-js";
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useAppConfig } from "../api/app-config";
import { ErrorNote, Loading } from "../components/status";

export default function StripePayment({ clientSecret, onPaid }: { clientSecret: string; onPaid: () => void }) {
  const config = useAppConfig();
  const mount = useRef<HTMLDivElement>(null);
  const [stripe, setStripe] = useState<{ stripe: Stripe; elements: StripeElements }>();
  const [error, setError] = useState<unknown>();
  const [paying, setPaying] = useState(false);
  const key = config.data?.stripePublishableKey;

  useEffect(() => {
    if (!key || !mount.current) return;
    let cancelled = false;
    let element: StripePaymentElement | undefined;
    const target = mount.current;
    loadStripe(key)
      .then((s) => {
        if (cancelled) return;
        if (!s) throw new Error("Stripe could not be loaded; check your connection and reload the page.");
        const elements = s.elements({ clientSecret });
        element = elements.create("payment");
        element.mount(target);
        setStripe({ stripe: s, elements });
      })
      .catch((err: unknown) => !cancelled && setError(err));
    return () => {
      cancelled = true;
      element?.destroy();
      setStripe(undefined);
    };
  }, [key, clientSecret]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!stripe) return;
    setPaying(true);
    setError(undefined);
    try {
      const result = await stripe.stripe.confirmPayment({ elements: stripe.elements, redirect: "if_required" });
      if (result.error) setError(new Error(result.error.message ?? "The payment did not go through."));
      else onPaid();
    } catch (err) {
      setError(err);
    } finally {
      setPaying(false);
    }
  };

  if (config.isPending) return <Loading what="the payment form" />;
  if (!key) {
    return (
      <p role="alert" className="error">
        Card payments are not configured on this site (the gateway has no STRIPE_PUBLISHABLE_KEY).
      </p>
    );
  }
  return (
    <form onSubmit={(e) => void submit(e)}>
      <div ref={mount} className="stripe-element" />
      <ErrorNote error={error} />
      <button type="submit" className="primary" disabled={!stripe || paying}>
        Pay
      </button>
    </form>
  );
}
