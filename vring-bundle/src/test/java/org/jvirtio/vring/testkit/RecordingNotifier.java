package org.jvirtio.vring.testkit;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicIntegerArray;

import org.jvirtio.api.device.DriverNotifier;

/** Remembers what a device asked its transport to do, for device-model tests. */
public final class RecordingNotifier implements DriverNotifier {
    public final AtomicIntegerArray used = new AtomicIntegerArray(16);
    public final List<String> resets = new CopyOnWriteArrayList<>();
    public volatile int configChanges;

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
