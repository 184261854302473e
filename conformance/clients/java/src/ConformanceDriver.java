public class ConformanceDriver { public static void main(String[] a){} }
