package org.jvirtio.platform.jmx;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.management.ManagementFactory;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;

import org.jvirtio.api.management.ServedDevice;
import org.jvirtio.platform.shell.DeviceTable;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * Every served device as an MXBean {@code org.jvirtio:type=Device,id=ID} in the platform MBean server,
 * registered while its transport runs: what {@code virtio:stats} shows, for jconsole and monitoring.
 */
@Component(service = {}, immediate = true)
public final class DeviceMBeans {
    private static final Logger LOG = System.getLogger("org.jvirtio.platform");
    private final MBeanServer server = ManagementFactory.getPlatformMBeanServer();
    private final Map<ServedDevice, ObjectName> registered = new ConcurrentHashMap<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addDevice(ServedDevice device) {
        try {
            ObjectName name = name(device.id());
            server.registerMBean(new View(device), name);
            registered.put(device, name);
        } catch (JMException e) {
            LOG.log(Level.WARNING, "device {0}: no JMX bean: {1}", device.id(), e.toString());
        }
    }

    void removeDevice(ServedDevice device) {
        ObjectName name = registered.remove(device);
        if (name != null) {
            try {
                server.unregisterMBean(name);
            } catch (JMException e) {
                LOG.log(Level.DEBUG, "{0}: {1}", name, e.toString());
            }
        }
    }

    @Deactivate
    void deactivate() {
        registered.keySet().forEach(this::removeDevice);
    }

    static ObjectName name(String id) throws JMException {
        return new ObjectName("org.jvirtio", new java.util.Hashtable<>(Map.of("type", "Device", "id",
                ObjectName.quote(id))));
    }

    /** The bean: reads the device at every call. */
    private static final class View implements DeviceMXBean {
        private final ServedDevice d;

        View(ServedDevice d) {
            this.d = d;
        }

        @Override
        public String getId() {
            return d.id();
        }

        @Override
        public String getDeviceType() {
            return DeviceTable.typeName(d.deviceType());
        }

        @Override
        public String getTransport() {
            return d.transport();
        }

        @Override
        public String getAddress() {
            return d.address();
        }

        @Override
        public String getState() {
            return d.state();
        }

        @Override
        public long getNegotiatedFeatures() {
            return d.negotiatedFeatures();
        }

        @Override
        public QueueView[] getQueues() {
            QueueView[] queues = new QueueView[d.queueCount()];
            for (int i = 0; i < queues.length; i++) {
                queues[i] = new QueueView(i, d.queueStatistics(i));
            }
            return queues;
        }

        @Override
        public Map<String, Long> getCounters() {
            return d.deviceCounters();
        }

        @Override
        public void reset() {
            d.reset();
        }
    }
}
