import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * A single OpenSearch 2.19 node in this JVM, for tests (started by test/support/opensearch.ts).
 *
 * Usage: java -cp classes:lib/* OpenSearchNode HOME HTTP_PORT TRANSPORT_PORT
 *
 * Binds 127.0.0.1 only, single-node discovery, data under HOME. Prints
 * "OPENSEARCH_READY http://127.0.0.1:PORT <ms>" once the node has started, then runs until its
 * standard input closes (the parent stopped it, or died) and closes the node cleanly.
 */
public final class OpenSearchNode {
  /** Node's plugin-taking constructor is protected; this opens it for classpath plugins. */
  private static final class EmbeddedNode extends Node {
    EmbeddedNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
      super(environment, plugins, true);
    }
  }

  public static void main(String[] args) throws Exception {
    long started = System.nanoTime();
    Path home = Paths.get(args[0]).toAbsolutePath();
    int httpPort = Integer.parseInt(args[1]);
    int transportPort = Integer.parseInt(args[2]);
    Settings settings = Settings.builder()
        .put("path.home", home.toString())
        .put("path.data", home.resolve("data").toString())
        .put("path.logs", home.resolve("logs").toString())
        .put("cluster.name", "ticketing-test")
        .put("node.name", "test-node")
        .put("network.host", "127.0.0.1")
        .put("http.port", httpPort)
        .put("transport.port", transportPort)
        .put("discovery.type", "single-node")
        // tests run on machines with full-ish disks; never go read-only because of watermarks
        .put("cluster.routing.allocation.disk.threshold_enabled", false)
        .build();
    Environment environment =
        InternalSettingsPreparer.prepareEnvironment(settings, Collections.emptyMap(), null, () -> "test-node");
    Node node = new EmbeddedNode(environment, List.of(Netty4Plugin.class));
    node.start();
    System.out.println("OPENSEARCH_READY http://127.0.0.1:" + httpPort + " " + (System.nanoTime() - started) / 1_000_000);
    System.out.flush();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        node.close();
      } catch (Exception ignored) {
        // exiting anyway
      }
    }));
    while (System.in.read() != -1) {
      // wait for end of input
    }
    node.close();
    System.exit(0);
  }
}
