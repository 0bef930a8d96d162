import { describe, expect, it } from 'vitest';
import { IpcError, toIpcError } from './api';

describe('IPC errors', () => {
  it('keeps the code, message and approval request of a refusal', () => {
    const e = toIpcError({
      code: 'approval_required',
      message: 'refund of 25.00 EUR needs a manager',
      approval: { request_id: 'r1', action: 'refund', amount: 2500, amount_text: '25.00 EUR', subject: 'o', requested_by: 'Ben', reasons: ['damaged'], approvers: [], expires_at: '' },
    });
    expect(e).toBeInstanceOf(IpcError);
    expect(e.code).toBe('approval_required');
    expect(e.approval?.request_id).toBe('r1');
  });
  it('turns unknown codes and shapes into internal errors', () => {
    expect(toIpcError({ code: 'made_up', message: 'x' }).code).toBe('internal');
    expect(toIpcError('boom').code).toBe('internal');
    expect(toIpcError(undefined).message).toBe('unexpected error');
  });
});
