// The order being rung up at this window. The core prices it; this only keeps its latest view.
import { api, type Order, type SaleReceipt } from './api';
import { act, ui } from './ui.svelte';

class Sale {
  order = $state<Order | null>(null);
  paying = $state(false);
  receipt = $state<SaleReceipt | null>(null);

  private opening: Promise<string | null> | null = null;

  /** The open order's id, opening one on the first item (once, however fast the taps come). */
  private async ensure(): Promise<string | null> {
    if (this.order) return this.order.order_id;
    if (!this.opening) {
      this.opening = act(() => api.openOrder()).then((o) => {
        this.opening = null;
        if (o) this.order = o;
        return o?.order_id ?? null;
      });
    }
    return this.opening;
  }

  async addSku(sku: string): Promise<void> {
    const id = await this.ensure();
    if (!id) return;
    const o = await act(() => api.addBySku(id, sku));
    if (o) this.order = o;
  }

  async scan(code: string): Promise<void> {
    if (this.paying) {
      ui.toast('info', 'Finish the payment before scanning the next item.');
      return;
    }
    const id = await this.ensure();
    if (!id) return;
    const o = await act(() => api.addByBarcode(id, code));
    if (o) {
      this.order = o;
      const last = o.lines[o.lines.length - 1];
      if (last) ui.toast('ok', `${last.name} added`, 1500);
    }
  }

  /** Applies a change that returns the re-priced order. */
  async change(run: (orderId: string) => Promise<Order>): Promise<void> {
    if (!this.order) return;
    const id = this.order.order_id;
    const o = await act(() => run(id));
    if (o) this.order = o;
  }

  finished(receipt: SaleReceipt): void {
    this.receipt = receipt;
    this.order = null;
  }

  newSale(): void {
    this.receipt = null;
    this.paying = false;
  }
}

export const sale = new Sale();
