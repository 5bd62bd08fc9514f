package org.jvirtio.device.net;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.jvirtio.api.device.DriverNotifier;

/** Remembers what the device asked the transport to do. */
final class RecordingNotifier implements DriverNotifier {
    final AtomicIntegerArray used = new AtomicIntegerArray(16);
    final List<String> resets = new CopyOnWriteArrayList<>();
    volatile int configChanges;

    @Override
    public void notifyUsed(int index) {
        used.incrementAndGet(index);
    }

    @Override
    public void notifyConfigChanged() {
        configChanges++;
    }

    @Override
    public void deviceNeedsReset(String reason) {
        resets.add(reason);
    }
}
