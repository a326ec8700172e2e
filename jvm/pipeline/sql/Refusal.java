package pipeline.sql;

import java.util.List;

import org.apache.spark.SparkThrowable;

/**
 * What a read-only endpoint refuses, as a Spark error (not an internal one) whose message is one
 * line: which rule, what was refused, what to do instead. Shared by the SQL guard and Spark Connect's.
 */
final class Refusal extends RuntimeException implements SparkThrowable {

  /** The settings a client may change: none reaches a file, a catalog or the guard itself. */
  static final List<String> SETTABLE = List.of(
      "spark.sql.shuffle.partitions", "spark.sql.session.timeZone", "spark.sql.ansi.enabled",
      "spark.sql.adaptive.enabled");

  /** JDBC drivers send their session's options (e.g. the fetch size); Spark reads none of them. */
  static final String JDBC_SESSION_OPTIONS = "hive.server2.";

  static boolean settable(String key) {
    return SETTABLE.contains(key) || key.startsWith(JDBC_SESSION_OPTIONS);
  }

  private Refusal(String message) {
    super("[PIPELINE_READ_ONLY] " + message);
  }

  static Refusal write(String what) {
    return new Refusal("this endpoint is read-only: " + what + " refused (the lake changes only through the "
        + "pipeline's jobs; start the server with --allow-writes to permit it)");
  }

  static Refusal notATable(String what) {
    return new Refusal("this endpoint serves only the lake's tables: " + what + " refused (query a table by "
        + "name; SHOW TABLES IN gold lists them)");
  }

  static Refusal setting(String key) {
    return new Refusal("this endpoint's settings are fixed: " + key + " refused (a client may set only "
        + String.join(", ", SETTABLE) + " and the JDBC session's " + JDBC_SESSION_OPTIONS + "*)");
  }

  static Refusal clientCode(String what) {
    return new Refusal("this endpoint runs no client code: " + what + " refused (UDFs, scripts, reflection, "
        + "jars and artifacts run only on a server started with --allow-writes)");
  }

  @Override
  public String getCondition() {
    return "PIPELINE_READ_ONLY";
  }

  @Override
  public String getSqlState() {
    return "42000";
  }
}
