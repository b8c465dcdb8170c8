/**
 * Calls `onGone` once when the process that started this one is gone, however it died (SIGKILL included): its IPC
 * channel closes, or, without one, this process is re-parented (the parent pid changes). The watch itself never keeps
 * the process alive. Returns a function that ends the watch.
 */
export function watchParent(onGone: (how: string) => void, pollMs = 1000): () => void {
  let gone = false;
  const report = (how: string): void => {
    if (gone) return;
    gone = true;
    onGone(how);
  };
  if (process.channel) {
    const onDisconnect = (): void => report('its IPC channel closed');
    process.once('disconnect', onDisconnect);
    process.channel.unref();
    if (!process.connected) report('its IPC channel was already closed');
    return () => process.off('disconnect', onDisconnect);
  }
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) report(`re-parented from pid ${parent} to ${process.ppid}`);
  }, pollMs);
  timer.unref();
  return () => clearInterval(timer);
}
