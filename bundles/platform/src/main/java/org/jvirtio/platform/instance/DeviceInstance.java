package org.jvirtio.platform.instance;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.Map;
import java.util.TreeMap;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;

/**
 * One device instance: each factory configuration of {@link #PID} (a file in {@code conf/}, a
 * {@code --device} option) becomes three configurations, of a backend, a device over it and a
 * transport serving the device (vhost-user or virtio-pci; a balloon has no backend) ({@link InstancePlan});
 * deleting it deletes them. Editing a balloon's {@code target} updates its device's configuration,
 * which the running balloon applies in place.
 *
 * <p>Editing the instance changes only what the edit touches. A new backend is created next to the
 * old one under a new tag, the device is pointed at it, then the old backend is deleted: the device
 * restarts over the new backend while the transport keeps the guest's connection (its device service
 * is replaced under it). A bad edit is logged and changes nothing; a bad new instance creates nothing.
 */
@Component(configurationPid = DeviceInstance.PID, configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
public final class DeviceInstance {
    public static final String PID = "org.jvirtio.instance";
    /** On each configuration an instance creates: the instance configuration's PID. */
    static final String OWNER = "jvirtio.instance";
    /** On a backend configuration: the tag its device's {@code backend.target} selects. */
    static final String BACKEND_TAG = "jvirtio.backend";
    private static final Logger LOG = System.getLogger("org.jvirtio.platform");

    private final ConfigurationAdmin configAdmin;
    private final InstanceIds ids;
    private final String pid;
    private InstancePlan applied;
    private int generation;
    private Configuration backend;
    private Configuration device;
    private Configuration transport;

    @Activate
    public DeviceInstance(@Reference ConfigurationAdmin configAdmin, @Reference InstanceIds ids,
            Map<String, Object> properties) {
        this.configAdmin = configAdmin;
        this.ids = ids;
        this.pid = String.valueOf(properties.get("service.pid"));
        apply(properties);
    }

    @Modified
    void modified(Map<String, Object> properties) {
        apply(properties);
    }

    @Deactivate
    void deactivate() {
        removeAll();
    }

    private synchronized void apply(Map<String, Object> properties) {
        InstancePlan plan;
        try {
            plan = InstancePlan.of(userKeys(properties));
        } catch (InstanceConfigException e) {
            LOG.log(Level.ERROR, "{0}: {1}{2}", source(properties), e.getMessage(),
                    applied == null ? "" : "; device " + applied.id() + " keeps running as it was");
            return;
        }
        if (applied != null && !applied.id().equals(plan.id())) {
            removeAll(); // a new id is a new device
        }
        String owner = ids.claim(plan.id(), pid);
        if (owner != null) {
            LOG.log(Level.ERROR, "{0}: device id {1} is already used (configuration {2}); this one is not started",
                    source(properties), plan.id(), owner);
            return;
        }
        try {
            reconcile(plan);
            LOG.log(Level.INFO, "device {0}: {1} over {2} on {3}", plan.id(), plan.device().factoryPid(),
                    plan.backend() == null ? "no backend" : plan.backend().factoryPid(),
                    plan.pci() ? "QMP " + plan.qmp() + " slot " + plan.slot()
                            : plan.mmio() ? "QMP " + plan.qmp() + " slot " + plan.slot() + " mmio window " + plan.window()
                            : plan.socket());
        } catch (IOException e) {
            LOG.log(Level.ERROR, "device " + plan.id() + ": configuration admin failed", e);
        }
    }

    /** Creates or updates the three configurations so that they say what {@code plan} says. */
    private void reconcile(InstancePlan plan) throws IOException {
        Configuration retiredBackend = null;
        if (plan.backend() == null) {
            retiredBackend = backend; // a type without a backend (balloon)
            backend = null;
        } else if (applied == null || !java.util.Objects.equals(applied.backend(), plan.backend())) {
            retiredBackend = backend;
            String tag = plan.id() + "." + (++generation);
            Map<String, Object> p = new HashMap<>(plan.backend().properties());
            p.put(BACKEND_TAG, tag);
            backend = create(plan.backend().factoryPid(), p);
        }
        Map<String, Object> d = new HashMap<>(plan.device().properties());
        if (backend != null) {
            d.put(plan.backendTarget(), "(" + BACKEND_TAG + "=" + backend.getProperties().get(BACKEND_TAG) + ")");
        }
        device = createOrUpdate(device, plan.device().factoryPid(), d);
        if (retiredBackend != null) {
            retiredBackend.delete();
        }
        transport = createOrUpdate(transport, plan.transport().factoryPid(), plan.transport().properties());
        applied = plan;
    }

    private Configuration createOrUpdate(Configuration existing, String factoryPid, Map<String, Object> properties)
            throws IOException {
        if (existing != null && existing.getFactoryPid().equals(factoryPid)) {
            Dictionary<String, Object> wanted = dictionary(properties);
            if (!sameProperties(existing.getProperties(), wanted)) {
                existing.update(wanted);
            }
            return existing;
        }
        if (existing != null) {
            existing.delete();
        }
        return create(factoryPid, properties);
    }

    private Configuration create(String factoryPid, Map<String, Object> properties) throws IOException {
        Configuration c = configAdmin.createFactoryConfiguration(factoryPid, "?");
        c.update(dictionary(properties));
        return c;
    }

    private Dictionary<String, Object> dictionary(Map<String, Object> properties) {
        Hashtable<String, Object> d = new Hashtable<>(properties);
        d.put(OWNER, pid);
        return d;
    }

    private static boolean sameProperties(Dictionary<String, Object> current, Dictionary<String, Object> wanted) {
        if (current == null) {
            return false;
        }
        for (String key : java.util.Collections.list(wanted.keys())) {
            if (!wanted.get(key).equals(current.get(key))) {
                return false;
            }
        }
        return true;
    }

    private synchronized void removeAll() {
        for (Configuration c : new Configuration[] {transport, device, backend}) {
            if (c != null) {
                try {
                    c.delete();
                } catch (IOException | IllegalStateException e) {
                    LOG.log(Level.DEBUG, "{0}: {1}", c.getPid(), e.toString());
                }
            }
        }
        transport = device = backend = null;
        if (applied != null) {
            ids.release(applied.id(), pid);
            applied = null;
        }
    }

    /**
     * The user's keys: instance keys are plain words ({@code id}, {@code drain_ms}); what configuration
     * admin, file install and DS add all have a dot in the name ({@code service.pid},
     * {@code felix.fileinstall.filename}, {@code osgi.ds.satisfying.condition.target}), or is objectClass.
     */
    static Map<String, String> userKeys(Map<String, Object> properties) {
        Map<String, String> keys = new TreeMap<>();
        properties.forEach((k, v) -> {
            if (k.indexOf('.') < 0 && !k.equals("objectClass")) {
                keys.put(k, String.valueOf(v));
            }
        });
        return keys;
    }

    private static String source(Map<String, Object> properties) {
        Object file = properties.get("felix.fileinstall.filename");
        return file != null ? String.valueOf(file) : String.valueOf(properties.get("service.pid"));
    }
}
