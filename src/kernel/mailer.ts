// Sending email: the Mailer port (what the outbox worker needs) and its SMTP adapter (nodemailer).
// A leaf, so the dependencies (src/kernel/context.ts) can name it without importing the receipts.
// nodemailer (~13 MiB of RSS) is loaded only when an SMTP mailer is made (SMTP_URL; bench/MEMORY.md).
import { createRequire } from 'node:module';
import type Nodemailer from 'nodemailer';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  /** Resolves once the server accepted the message; rejects with nodemailer's error otherwise. */
  send(message: MailMessage): Promise<void>;
}

export const RECEIPT_FROM = 'Flint receipts <receipts@flint.local>';

/** A mailer over SMTP (nodemailer), e.g. smtp://user:pass@mail.example.com:587. */
export function smtpMailer(url: string, from: string = RECEIPT_FROM): Mailer {
  const nodemailer = createRequire(import.meta.url)('nodemailer') as typeof Nodemailer;
  const transport = nodemailer.createTransport(url);
  return {
    async send(message) {
      await transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text, html: message.html });
    },
  };
}
