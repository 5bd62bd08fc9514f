package org.jvirtio.platform.jmx;

import java.util.Map;

/** A served device over JMX ({@code org.jvirtio:type=Device,id=ID}): what {@code virtio:stats} shows. */
public interface DeviceMXBean {
    String getId();

    String getDeviceType();

    String getTransport();

    String getAddress();

    String getState();

    long getNegotiatedFeatures();

    QueueView[] getQueues();

    Map<String, Long> getCounters();

    /** Ends the driver's connection; it reconnects and negotiates afresh. */
    void reset();
}
