import { builder } from '../builder.js';
import type { Address as AddressShape } from '../../kernel/validation.js';

export const Address = builder.objectRef<AddressShape>('Address').implement({
  description: 'A postal address. Its country and region decide which tax applies to an order.',
  fields: (t) => ({
    line1: t.exposeString('line1', { nullable: true, description: 'Street address.' }),
    line2: t.exposeString('line2', { nullable: true, description: 'Apartment, suite, unit.' }),
    city: t.exposeString('city', { nullable: true, description: 'City or locality.' }),
    region: t.exposeString('region', { nullable: true, description: 'ISO 3166-2 subdivision code without country prefix, e.g. "CA" or "BY".' }),
    postalCode: t.exposeString('postalCode', { nullable: true, description: 'Postal or ZIP code.' }),
    country: t.exposeString('country', { description: 'ISO 3166-1 alpha-2.' }),
  }),
});

export const AddressInput = builder.inputType('AddressInput', {
  description: 'A postal address. country (ISO 3166-1 alpha-2) is required; region (ISO 3166-2 subdivision, e.g. "CA") selects state taxes.',
  fields: (t) => ({
    line1: t.string({ description: 'Street address.' }),
    line2: t.string({ description: 'Apartment, suite, unit.' }),
    city: t.string({ description: 'City or locality.' }),
    region: t.string({ description: 'ISO 3166-2 subdivision code without the country prefix, e.g. "CA" for California.' }),
    postalCode: t.string({ description: 'Postal or ZIP code.' }),
    country: t.string({ required: true, description: 'ISO 3166-1 alpha-2 country code, e.g. "US", "DE".' }),
  }),
});

export function asAddress(value: unknown): AddressShape | null {
  return (value as AddressShape | null) ?? null;
}
