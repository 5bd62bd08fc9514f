package org.jvirtio.distribution.container;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;

/**
 * The bundles inside jvirtio.jar ({@code /jvirtio-bundles/}, in the order of
 * {@code /jvirtio-bundles.list}): installed and started at every launch, from a clean framework cache.
 *
 * <p>Each is installed at the location {@code jvirtio:NAME}. A newer build of one dropped into
 * {@code deploy/} has the same symbolic name and version, so File Install updates this bundle in place
 * instead of installing a second one.
 */
final class EmbeddedBundles {
    private static final String LIST = "/jvirtio-bundles.list";
    private static final String DIR = "/jvirtio-bundles/";
    private static final String SHELL = "shell:";

    private EmbeddedBundles() {
    }

    /** Installs every listed bundle (the shell only if {@code shell}), then starts them in order. */
    static List<Bundle> installAndStart(BundleContext context, boolean shell) throws IOException, BundleException {
        List<Bundle> installed = new ArrayList<>();
        for (String entry : list()) {
            boolean isShell = entry.startsWith(SHELL);
            if (isShell && !shell) {
                continue;
            }
            String name = isShell ? entry.substring(SHELL.length()) : entry;
            try (InputStream jar = EmbeddedBundles.class.getResourceAsStream(DIR + name)) {
                if (jar == null) {
                    throw new IOException("jvirtio.jar lacks " + DIR + name + " (a broken build?)");
                }
                installed.add(context.installBundle("jvirtio:" + name, jar));
            }
        }
        for (Bundle b : installed) {
            b.start();
        }
        return installed;
    }

    private static List<String> list() throws IOException {
        List<String> names = new ArrayList<>();
        try (InputStream in = EmbeddedBundles.class.getResourceAsStream(LIST)) {
            if (in == null) {
                throw new IOException("jvirtio.jar lacks " + LIST + " (a broken build?)");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null;) {
                line = line.strip();
                if (!line.isEmpty() && !line.startsWith("#")) {
                    names.add(line);
                }
            }
        }
        return names;
    }
}
