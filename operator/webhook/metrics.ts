// Webhook metrics, registered on the operator's registry so one scrape of the operator sees them.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class WebhookMetrics {
  readonly admissions: Counter<'result' | 'mode'>;
  readonly duration: Histogram;
  readonly certificateExpiry: Gauge;

  constructor(registry: Registry) {
    this.admissions = new Counter({
      name: 'turnout_webhook_admissions_total',
      help: 'Pod admissions by result (injected, skipped, denied, error) and mode',
      labelNames: ['result', 'mode'] as const,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'turnout_webhook_admission_duration_seconds',
      help: 'Time to answer one AdmissionReview',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers: [registry],
    });
    this.certificateExpiry = new Gauge({
      name: 'turnout_webhook_certificate_expiry_timestamp_seconds',
      help: 'When the serving certificate this replica presents expires (Unix seconds)',
      registers: [registry],
    });
  }
}
