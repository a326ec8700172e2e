"""Files on any Hadoop file system: existence checks, small text files, atomic
replace, and conditional writes on object stores."""

import os
import tempfile

from py4j.protocol import Py4JJavaError
from pyspark.sql import SparkSession

CONDITIONAL_CREATE = "fs.option.create.conditional.overwrite"  # If-None-Match: *
CONDITIONAL_OVERWRITE = "fs.option.create.conditional.overwrite.etag"  # If-Match: <etag>


def has_scheme(path: str) -> bool:
    """True for Hadoop URIs such as hdfs://, s3a:// or file:/."""
    return ":" in path.split("/", 1)[0]


def local_path(path: str) -> str | None:
    """The local file system path of a path or file: URI; None for other file systems."""
    if has_scheme(path) and not path.startswith("file:"):
        return None
    return path.removeprefix("file://").removeprefix("file:")


def path_exists(spark: SparkSession, path: str) -> bool:
    """Whether a file or folder exists, on any Hadoop file system."""
    hadoop_path = spark._jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path.getFileSystem(spark._jsc.hadoopConfiguration()).exists(hadoop_path)


def write_text(spark: SparkSession, path: str, content: str) -> None:
    """Write a small UTF-8 file through a temporary file and a rename, so readers
    see the old or the new file whole. (On object stores Hadoop's rename copies.)"""
    local = local_path(path)
    if local is not None:
        os.makedirs(os.path.dirname(local), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(local), prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(content)
            os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide the report from other users
            os.replace(temporary, local)
        except BaseException:
            os.unlink(temporary)
            raise
        return
    jvm = spark._jvm
    final = jvm.org.apache.hadoop.fs.Path(path)
    temporary = jvm.org.apache.hadoop.fs.Path(final.getParent(), f".{final.getName()}.tmp")
    fs = final.getFileSystem(spark._jsc.hadoopConfiguration())
    out = fs.create(temporary, True)
    try:
        out.write(bytearray(content.encode("utf-8")))
    finally:
        out.close()
    replace_file(spark, temporary.toString(), path)


def replace_file(spark: SparkSession, source: str, target: str) -> None:
    """Rename `source` over `target` in one step. FileContext.rename with OVERWRITE
    replaces the target atomically on HDFS and local disks (FileSystem.rename
    refuses an existing target; on object stores any rename is a copy)."""
    hadoop = spark._jvm.org.apache.hadoop.fs
    final = hadoop.Path(target)
    overwrite = spark.sparkContext._gateway.new_array(hadoop.Options.Rename, 1)
    overwrite[0] = hadoop.Options.Rename.OVERWRITE
    context = hadoop.FileContext.getFileContext(final.toUri(), spark._jsc.hadoopConfiguration())
    context.rename(hadoop.Path(source), final, overwrite)


def read_text(spark: SparkSession, path: str) -> str:
    """A small UTF-8 file's content, from any Hadoop file system."""
    hadoop_path = spark._jvm.org.apache.hadoop.fs.Path(path)
    stream = hadoop_path.getFileSystem(spark._jsc.hadoopConfiguration()).open(hadoop_path)
    try:
        return spark._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()


def file_names(spark: SparkSession, folder: str) -> list[str]:
    """The names of the files directly in `folder` ([] when it does not exist)."""
    hadoop_path = spark._jvm.org.apache.hadoop.fs.Path(folder)
    fs = hadoop_path.getFileSystem(spark._jsc.hadoopConfiguration())
    if not fs.exists(hadoop_path):
        return []
    return [status.getPath().getName() for status in fs.listStatus(hadoop_path) if status.isFile()]


def _hadoop_file(spark: SparkSession, path: str):
    hadoop_path = spark._jvm.org.apache.hadoop.fs.Path(path)
    return hadoop_path, hadoop_path.getFileSystem(spark._jsc.hadoopConfiguration())


def write_if(spark: SparkSession, path: str, content: str, etag: str | None) -> str | None:
    """Write a small file on an object store (S3A) only if there is none (etag
    None: If-None-Match: *) or only if it still has this ETag (If-Match): its
    new ETag, or None when the store refused (the precondition failed)."""
    hadoop_path, fs = _hadoop_file(spark, path)
    builder = fs.createFile(hadoop_path)
    if etag is None:
        builder = builder.overwrite(False).must(CONDITIONAL_CREATE, "true")
    else:
        builder = builder.overwrite(True).must(CONDITIONAL_OVERWRITE, etag)
    try:
        out = builder.build()
        try:
            out.write(bytearray(content.encode("utf-8")))
        finally:
            out.close()  # S3A sends the PUT here
    except Py4JJavaError as err:
        if precondition_failed(err):
            return None
        raise
    return fs.getFileStatus(hadoop_path).getEtag()


def read_with_etag(spark: SparkSession, path: str, attempts: int = 5) -> tuple[str, str] | None:
    """A small UTF-8 file's content and ETag; None when there is no such file.
    S3A reads with If-Match on the ETag it listed: a file replaced between the
    two requests fails with 412, so read the new version instead."""
    hadoop_path, fs = _hadoop_file(spark, path)
    for attempt in range(1, attempts + 1):
        try:
            return _read_once(fs, hadoop_path)
        except Py4JJavaError as err:
            if attempt == attempts or not precondition_failed(err):
                raise
    return None


def _read_once(fs, hadoop_path) -> tuple[str, str] | None:
    try:
        etag = fs.getFileStatus(hadoop_path).getEtag()
        stream = fs.open(hadoop_path)
    except Py4JJavaError as err:
        if "FileNotFoundException" in err.java_exception.getClass().getName():
            return None
        raise
    try:
        return bytes(stream.readAllBytes()).decode("utf-8", errors="replace"), etag
    finally:
        stream.close()


def delete(spark: SparkSession, path: str, recursive: bool = False) -> None:
    hadoop_path, fs = _hadoop_file(spark, path)
    fs.delete(hadoop_path, recursive)


def precondition_failed(err: Py4JJavaError) -> bool:
    """S3's 412 for a failed If-None-Match / If-Match (S3A: RemoteFileChangedException),
    or a file system that checked existence itself."""
    java = err.java_exception
    while java is not None:
        name = java.getClass().getName()
        if name.endswith(("RemoteFileChangedException", "FileAlreadyExistsException")) or "Status Code: 412" in str(
            java.getMessage()
        ):
            return True
        java = java.getCause()
    return False
