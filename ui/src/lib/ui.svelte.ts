// The window's shared state: who is signed in, the status bar, and the dialogs any screen can
// raise (manager approval, back-office elevation, confirmations, messages).
import { api, toIpcError, type ApprovalRequest, type IpcError, type SessionView, type StatusBar } from './api';

export interface Toast { id: number; kind: 'ok' | 'error' | 'info'; text: string }
export interface Confirm { title: string; text: string; ok: string; danger: boolean; resolve: (ok: boolean) => void }

class Ui {
  session = $state<SessionView | null>(null);
  locked = $state(false);
  status = $state<StatusBar | null>(null);
  toasts = $state<Toast[]>([]);
  approval = $state<{ request: ApprovalRequest; resolve: (ok: boolean) => void } | null>(null);
  elevation = $state<{ resolve: (ok: boolean) => void } | null>(null);
  confirmation = $state<Confirm | null>(null);
  private nextId = 1;

  can(permission: string): boolean {
    return this.session?.permissions.includes(permission) ?? false;
  }

  toast(kind: Toast['kind'], text: string, ms = kind === 'error' ? 6000 : 3500): void {
    const id = this.nextId++;
    this.toasts = [...this.toasts, { id, kind, text }];
    setTimeout(() => (this.toasts = this.toasts.filter((t) => t.id !== id)), ms);
  }

  askApproval(request: ApprovalRequest): Promise<boolean> {
    return new Promise((resolve) => (this.approval = { request, resolve }));
  }

  askElevation(): Promise<boolean> {
    return new Promise((resolve) => (this.elevation = { resolve }));
  }

  confirm(title: string, text: string, ok = 'OK', danger = false): Promise<boolean> {
    return new Promise((resolve) => (this.confirmation = { title, text, ok, danger, resolve }));
  }

  async refreshStatus(): Promise<void> {
    try {
      const s = await api.status();
      this.status = s;
      if (s.locked && this.session) this.locked = true;
    } catch {
      // The status bar keeps its last state; the next poll tries again.
    }
  }
}

export const ui = new Ui();

/**
 * Runs an action against the register. When the core holds it for a manager, the approval dialog
 * opens and, once approved, the same action runs again (the grant is for exactly that action).
 * A back-office action asks for PIN + authenticator code the same way. Other refusals are shown
 * as a message; the result is then null. The core decides every one of these; this only reacts.
 */
export async function act<T>(run: () => Promise<T>, opts: { quiet?: ErrorCodeList } = {}): Promise<T | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await run();
    } catch (raw) {
      const e = toIpcError(raw);
      if (e.code === 'approval_required' && e.approval) {
        if (await ui.askApproval(e.approval)) continue;
        ui.toast('info', 'Not approved: nothing was changed.');
        return null;
      }
      if (e.code === 'elevation_required') {
        if (await ui.askElevation()) continue;
        return null;
      }
      handle(e, opts.quiet);
      return null;
    }
  }
  return null;
}

type ErrorCodeList = IpcError['code'][];

/** Shows a refusal the way its code asks for. */
export function handle(e: IpcError, quiet: ErrorCodeList = []): void {
  if (quiet.includes(e.code)) return;
  if (e.code === 'session_locked') {
    ui.locked = true;
    return;
  }
  if (e.code === 'not_signed_in') {
    ui.session = null;
    ui.locked = false;
    return;
  }
  ui.toast('error', e.message);
}
