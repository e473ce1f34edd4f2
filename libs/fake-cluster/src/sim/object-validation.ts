import {
  dns1123LabelErrors,
  dns1123SubdomainErrors,
  labelValueErrors,
  qualifiedNameErrors,
} from '@knm/contracts';
import { statusErrors, type StatusCause } from '../api/api-status.js';
import type { KubeObject } from '../api/kube-object.js';

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/**
 * Validates what kube-sim checks of an object before storing it (names, labels,
 * taints), the way the API server's validation words it, and throws a 422 Invalid
 * Status listing every problem as a cause.
 */
export function validateObject(object: KubeObject): void {
  const causes: StatusCause[] = [];
  const meta = object.metadata;
  const nameErrors =
    object.kind === 'Namespace' ? dns1123LabelErrors(meta.name) : dns1123SubdomainErrors(meta.name);
  for (const e of nameErrors) {
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message: `Invalid value: ${JSON.stringify(meta.name)}: ${e}`,
    });
  }
  for (const [key, value] of Object.entries(meta.labels ?? {})) {
    for (const e of qualifiedNameErrors(key)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'metadata.labels',
        message: `Invalid value: ${JSON.stringify(key)}: ${e}`,
      });
    }
    if (typeof value !== 'string') {
      causes.push({
        reason: 'FieldValueInvalid',
        field: `metadata.labels`,
        message: `Invalid value: label values must be strings`,
      });
      continue;
    }
    for (const e of labelValueErrors(value)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'metadata.labels',
        message: `Invalid value: ${JSON.stringify(value)}: ${e}`,
      });
    }
  }
  for (const [key] of Object.entries(meta.annotations ?? {})) {
    for (const e of qualifiedNameErrors(key)) {
      causes.push({
        reason: 'FieldValueInvalid',
        field: 'metadata.annotations',
        message: `Invalid value: ${JSON.stringify(key)}: ${e}`,
      });
    }
  }
  if (object.kind === 'Node') {
    const taints = object.spec?.['taints'];
    if (taints !== undefined && taints !== null) {
      if (!Array.isArray(taints)) {
        causes.push({
          reason: 'FieldValueInvalid',
          field: 'spec.taints',
          message: 'Invalid value: must be a list',
        });
      } else {
        const seen = new Set<string>();
        taints.forEach((taint, i) => {
          const t = (taint ?? {}) as Record<string, unknown>;
          const key = typeof t['key'] === 'string' ? t['key'] : '';
          for (const e of qualifiedNameErrors(key)) {
            causes.push({
              reason: 'FieldValueInvalid',
              field: `spec.taints[${i}].key`,
              message: `Invalid value: ${JSON.stringify(key)}: ${e}`,
            });
          }
          const effect = t['effect'];
          if (typeof effect !== 'string' || !TAINT_EFFECTS.includes(effect)) {
            causes.push({
              reason: 'FieldValueNotSupported',
              field: `spec.taints[${i}].effect`,
              message: `Unsupported value: ${JSON.stringify(effect ?? '')}: supported values: "NoExecute", "NoSchedule", "PreferNoSchedule"`,
            });
          }
          const id = `${key}:${String(effect)}`;
          if (seen.has(id)) {
            causes.push({
              reason: 'FieldValueDuplicate',
              field: `spec.taints[${i}]`,
              message: `Duplicate value: ${JSON.stringify({ key, effect })}`,
            });
          }
          seen.add(id);
        });
      }
    }
  }
  if (causes.length > 0) {
    const group = object.apiVersion.includes('/') ? object.apiVersion.split('/')[0] : undefined;
    throw statusErrors.invalid(object.kind, meta.name, causes, group);
  }
}
