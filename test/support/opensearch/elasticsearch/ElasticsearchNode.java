import java.nio.file.Path;
import java.nio.file.Paths;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.node.Node;

/**
 * A single Elasticsearch 8 node in this JVM, for tests (started by test/support/opensearch.ts).
 *
 * Usage: java --module-path LIB --add-modules ALL-MODULE-PATH -cp CLASSES ElasticsearchNode HOME HTTP_PORT TRANSPORT_PORT
 *
 * The server must be on the module path (it inspects its own module descriptor); HOME/modules
 * holds transport-netty4. Binds 127.0.0.1 only, single-node discovery, data under HOME. Prints
 * "ELASTICSEARCH_READY http://127.0.0.1:PORT <ms>" once started, then runs until its standard
 * input closes and closes the node cleanly.
 */
public final class ElasticsearchNode {
  public static void main(String[] args) throws Exception {
    long started = System.nanoTime();
    LogConfigurator.configureESLogging();
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
        .put("cluster.routing.allocation.disk.threshold_enabled", false)
        .build();
    Node node = new Node(new Environment(settings, home.resolve("config")));
    node.start();
    System.out.println("ELASTICSEARCH_READY http://127.0.0.1:" + httpPort + " " + (System.nanoTime() - started) / 1_000_000);
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
