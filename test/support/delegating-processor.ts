// A processor that passes every call to another one (the sandbox): tests subclass it and override only
// the call they want to lose, hold or slow down.
import type { PaymentProcessor } from '../../src/kernel/processor.js';

export class DelegatingProcessor implements PaymentProcessor {
  readonly name: PaymentProcessor['name'];
  constructor(protected readonly inner: PaymentProcessor) {
    this.name = inner.name;
  }
  confirmPayment(...args: Parameters<PaymentProcessor['confirmPayment']>) {
    return this.inner.confirmPayment(...args);
  }
  retrievePayment(...args: Parameters<PaymentProcessor['retrievePayment']>) {
    return this.inner.retrievePayment(...args);
  }
  cancelPayment(...args: Parameters<PaymentProcessor['cancelPayment']>) {
    return this.inner.cancelPayment(...args);
  }
  createRefund(...args: Parameters<PaymentProcessor['createRefund']>) {
    return this.inner.createRefund(...args);
  }
  retrieveRefund(...args: Parameters<PaymentProcessor['retrieveRefund']>) {
    return this.inner.retrieveRefund(...args);
  }
}
