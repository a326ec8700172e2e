package pipeline.sql;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.regex.Pattern;

import org.apache.spark.SparkThrowable;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.catalyst.analysis.PersistedView$;
import org.apache.spark.sql.catalyst.plans.logical.Command;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.command.CreateViewCommand;

import scala.Function1;
import scala.runtime.BoxedUnit;

/**
 * Read-only SQL endpoints (make serve): with spark.sql.extensions=pipeline.sql.ReadOnlyExtension
 * every statement that would change a table or the catalog is refused at analysis, before it
 * runs: DDL, INSERT, MERGE, UPDATE, DELETE, OPTIMIZE, VACUUM, DataFrame writes, ADD JAR.
 * Queries, SHOW, DESCRIBE, EXPLAIN, SET, USE, CACHE and temporary views stay allowed.
 * The server's own session, which registers the lake's tables, is trusted.
 */
public final class ReadOnlyExtension implements Function1<SparkSessionExtensions, BoxedUnit> {

  private static final Pattern READ_ONLY_COMMANDS = Pattern.compile(
      "(Show|Describe|Explain|SetCatalogAndNamespace|SetNamespace|RefreshTable|CacheTable|UncacheTable|ClearCache)\\w*"
          + "|SetCommand|ResetCommand|SetVariable|CreateVariable|DropVariable");

  private static final Set<SparkSession> TRUSTED = Collections.synchronizedSet(
      Collections.newSetFromMap(new IdentityHashMap<>()));

  /** Let `session` (the server's own) register tables. */
  public static void trust(SparkSession session) {
    TRUSTED.add(session);
  }

  @Override
  public BoxedUnit apply(SparkSessionExtensions extensions) {
    extensions.injectCheckRule(session -> plan -> {
      if (!TRUSTED.contains(session)) {
        refuseWrites(plan);
      }
      return BoxedUnit.UNIT;
    });
    return BoxedUnit.UNIT;
  }

  private static void refuseWrites(LogicalPlan plan) {
    if (!(plan instanceof Command)) {
      return;
    }
    String name = plan.getClass().getSimpleName();
    if (READ_ONLY_COMMANDS.matcher(name).matches()) {
      return;
    }
    if (plan instanceof CreateViewCommand view && view.viewType() != PersistedView$.MODULE$) {
      return;
    }
    throw new ReadOnlyViolation(name);
  }

  /** A Spark error (not an internal one) with a message that fits on one line. */
  static final class ReadOnlyViolation extends RuntimeException implements SparkThrowable {
    ReadOnlyViolation(String command) {
      super("[PIPELINE_READ_ONLY] this endpoint is read-only: " + command
          + " refused (the lake changes only through the pipeline's jobs; start the server with --allow-writes to permit it)");
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
}
